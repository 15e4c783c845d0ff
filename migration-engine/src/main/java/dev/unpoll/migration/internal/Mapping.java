package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import java.util.ArrayList;
import java.util.List;

/**
 * One table's mapping as in the {@code tables:} section of the configuration file, with the parts
 * the CLI reads typed.
 *
 * @param node the mapping as written in the file (key order kept)
 * @param topic the topic the relay publishes the table's rows to
 * @param key key columns (empty: the primary key)
 * @param statusColumn the poller's status column, or null
 * @param pending the pending status values
 * @param done the done status values
 * @param inProgress the status values the poller sets while it works on a row
 * @param failed the status values the poller sets after a failure (it may re-queue the row)
 */
public record Mapping(
    ObjectNode node,
    String topic,
    List<String> key,
    String statusColumn,
    List<String> pending,
    List<String> done,
    List<String> inProgress,
    List<String> failed) {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final java.util.regex.Pattern TOPIC =
      java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,249}");

  /** Reads a mapping node; a mapping without a topic is an error naming the fix. */
  public static Mapping of(JsonNode node, TableName table) {
    if (node == null || !node.isObject()) {
      throw new MigrationException("the mapping of " + table.display() + " is not an object");
    }
    String topic = node.path("topic").asText(null);
    if (topic == null || topic.isBlank()) {
      throw MigrationException.usage(
          "tables["
              + table.display()
              + "].topic is missing: run `unpoll plan --table "
              + table.display()
              + "` or add topic: to the mapping");
    }
    JsonNode status = node.path("status");
    return new Mapping(
        (ObjectNode) node.deepCopy(),
        topic,
        texts(node.path("key")),
        status.path("column").asText(null),
        texts(status.path("pending")),
        texts(status.path("done")),
        texts(status.path("in-progress")),
        texts(status.path("failed")));
  }

  /** The mapping the analysis proposes, with {@code topic} if given. */
  public static Mapping propose(TableInfo info, String topic) {
    if (topic != null) {
      checkTopic(topic);
    }
    ObjectNode m = JSON.createObjectNode();
    m.put("table", info.table().display());
    m.put("topic", topic != null ? topic : defaultTopic(info.table()));
    ArrayNode key = m.putArray("key");
    info.roles().key().forEach(key::add);
    // value: row, always. The migration's consumer runs the poller's row logic (legacy-row
    // handler, dual-run claim), which needs the row as the poller read it: its key, its business
    // columns and its payload (a json/jsonb payload is embedded as real JSON in the row object).
    // A payload-only value would drop the columns the handler reads. Teams that want the bare
    // payload on the wire for new consumers change it to value: payload.
    m.put("value", "row");
    info.roles().payload().ifPresent(p -> m.put("payload-column", p));
    ArrayNode bk = m.putArray("bookkeeping-columns");
    info.roles().bookkeeping().forEach(bk::add);
    info.roles()
        .status()
        .ifPresent(
            s -> {
              ObjectNode st = m.putObject("status");
              st.put("column", s.column());
              ArrayNode p = st.putArray("pending");
              s.pending().forEach(p::add);
              ArrayNode d = st.putArray("done");
              s.done().forEach(d::add);
              if (!s.inProgress().isEmpty()) {
                ArrayNode ip = st.putArray("in-progress");
                s.inProgress().forEach(ip::add);
              }
              if (!s.failed().isEmpty()) {
                ArrayNode f = st.putArray("failed");
                s.failed().forEach(f::add);
              }
            });
    m.put("backlog", info.roles().status().isPresent());
    m.put("emit-updates", false);
    m.put("emit-deletes", false);
    return of(m, info.table());
  }

  /** Rejects names Kafka would reject: 1-249 characters of letters, digits, '.', '_', '-'. */
  public static void checkTopic(String topic) {
    if (!TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
      throw MigrationException.usage(
          "--topic: '" + topic + "' is not a valid Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)");
    }
  }

  /** {@code schema.table} with characters Kafka does not allow in topic names replaced by _. */
  public static String defaultTopic(TableName t) {
    return (t.schema() + "." + t.table()).replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** The key columns, falling back to the primary key. */
  public List<String> keyOr(List<String> primaryKey) {
    return key.isEmpty() ? primaryKey : key;
  }

  private static List<String> texts(JsonNode array) {
    List<String> list = new ArrayList<>();
    if (array.isArray()) {
      array.forEach(n -> list.add(n.asText()));
    } else if (array.isValueNode()) {
      list.add(array.asText());
    }
    return List.copyOf(list);
  }
}
