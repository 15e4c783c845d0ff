package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.ConfigException;
import dev.unpoll.contract.config.ConfigReader;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.migration.MigrationException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One table's mapping as the engine handles it: the typed {@link TableMapping} the relay runs from,
 * read by the relay's own reader, and the tree it was read from (key order kept) for writing it
 * into {@code unpoll.yaml} and recording it at capture.
 *
 * @param node the mapping as written (in the file, or as proposed)
 * @param typed the mapping, checked as the relay checks it
 */
public record Mapping(ObjectNode node, TableMapping typed) {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final java.util.regex.Pattern TOPIC =
      java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,249}");

  /**
   * Reads a mapping node with the relay's reader; a mapping the relay would refuse is a usage error
   * listing every problem.
   */
  public static Mapping of(JsonNode node, TableName table) {
    if (node == null || !node.isObject()) {
      throw new MigrationException("the mapping of " + table.display() + " is not an object");
    }
    if (!node.hasNonNull("topic")) {
      throw MigrationException.usage(
          "tables["
              + table.display()
              + "].topic is missing: run `unpoll plan --table "
              + table.display()
              + "` or add topic: to the mapping");
    }
    try {
      TableMapping typed =
          new ConfigReader(Map.of()).readMapping(node, "tables[" + table.display() + "]");
      return new Mapping((ObjectNode) node.deepCopy(), typed);
    } catch (ConfigException e) {
      throw MigrationException.usage(e.getMessage());
    }
  }

  /** The mapping {@code typed} (from the configuration file), as a tree in the file's format. */
  public static Mapping of(TableMapping typed) {
    ObjectNode m = JSON.createObjectNode();
    m.put("table", typed.table().display());
    m.put("topic", typed.topic());
    ArrayNode key = m.putArray("key");
    typed.key().forEach(k -> key.add(TableName.displayColumn(k)));
    m.put("value", typed.value() == TableMapping.ValueMode.PAYLOAD ? "payload" : "row");
    typed.payloadColumn().ifPresent(p -> m.put("payload-column", TableName.displayColumn(p)));
    typed.eventType().ifPresent(t -> m.put("event-type", t));
    ArrayNode bk = m.putArray("bookkeeping-columns");
    typed.bookkeepingColumns().forEach(c -> bk.add(TableName.displayColumn(c)));
    typed.status().ifPresent(st -> putStatus(m, st));
    m.put("backlog", typed.backlog());
    m.put("emit-updates", typed.emitUpdates());
    m.put("emit-deletes", typed.emitDeletes());
    typed.createdAtColumn().ifPresent(c -> m.put("created-at-column", TableName.displayColumn(c)));
    typed
        .processedAtColumn()
        .ifPresent(c -> m.put("processed-at-column", TableName.displayColumn(c)));
    return new Mapping(m, typed);
  }

  /** The topic the relay publishes the table's rows to. */
  public String topic() {
    return typed.topic();
  }

  /** Key columns (empty: the primary key). */
  public List<String> key() {
    return typed.key();
  }

  /** The poller's status column, or null. */
  public String statusColumn() {
    return typed.status().map(TableMapping.Status::column).orElse(null);
  }

  /** The pending status values. */
  public List<String> pending() {
    return typed.status().map(TableMapping.Status::pending).orElse(List.of());
  }

  /** The done status values. */
  public List<String> done() {
    return typed.status().map(TableMapping.Status::done).orElse(List.of());
  }

  /** The status values the poller sets while it works on a row. */
  public List<String> inProgress() {
    return typed.status().map(TableMapping.Status::inProgress).orElse(List.of());
  }

  /** The status values the poller sets after a failure (it may re-queue the row). */
  public List<String> failed() {
    return typed.status().map(TableMapping.Status::failed).orElse(List.of());
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
    // column names as the file writes them: quoted where SQL would need quotes, since the reader
    // folds an unquoted name to lower case as PostgreSQL does
    info.roles().key().forEach(k -> key.add(TableName.displayColumn(k)));
    // value: row, always. The migration's consumer runs the poller's row logic (legacy-row
    // handler, dual-run claim), which needs the row as the poller read it: its key, its business
    // columns and its payload (a json/jsonb payload is embedded as real JSON in the row object).
    // A payload-only value would drop the columns the handler reads. Teams that want the bare
    // payload on the wire for new consumers change it to value: payload.
    m.put("value", "row");
    info.roles().payload().ifPresent(p -> m.put("payload-column", TableName.displayColumn(p)));
    ArrayNode bk = m.putArray("bookkeeping-columns");
    info.roles().bookkeeping().forEach(c -> bk.add(TableName.displayColumn(c)));
    info.roles()
        .status()
        .ifPresent(
            st ->
                putStatus(
                    m,
                    new TableMapping.Status(
                        st.column(), st.pending(), st.done(), st.inProgress(), st.failed())));
    // backlog needs the pending condition: with a status column but no pending value seen yet
    // (an empty table) the relay would refuse backlog: true, so it is proposed only with both
    m.put("backlog", info.roles().status().map(st -> !st.pending().isEmpty()).orElse(false));
    m.put("emit-updates", false);
    m.put("emit-deletes", false);
    // the poller's latency and verify's time window, for any table: written once, here
    info.roles().created().ifPresent(c -> m.put("created-at-column", TableName.displayColumn(c)));
    info.roles()
        .processed()
        .ifPresent(c -> m.put("processed-at-column", TableName.displayColumn(c)));
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

  /** The creation-time column: the mapping's, else {@code inferred}. */
  public Optional<String> createdAt(Optional<String> inferred) {
    return typed.createdAtColumn().or(() -> inferred);
  }

  /** The column the poller sets when it finished a row: the mapping's, else {@code inferred}. */
  public Optional<String> processedAt(Optional<String> inferred) {
    return typed.processedAtColumn().or(() -> inferred);
  }

  /** The key columns, falling back to the primary key. */
  public List<String> keyOr(List<String> primaryKey) {
    return key().isEmpty() ? primaryKey : key();
  }

  private static void putStatus(ObjectNode m, TableMapping.Status s) {
    ObjectNode st = m.putObject("status");
    st.put("column", TableName.displayColumn(s.column()));
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
  }
}
