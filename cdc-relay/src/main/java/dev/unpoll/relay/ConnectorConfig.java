package dev.unpoll.relay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.internal.DebeziumProperties;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The configuration of Debezium's PostgreSQL connector on Kafka Connect with unpoll's
 * transformation, for {@code PUT /connectors/<name>/config}: built by the same code as the relay's
 * engine properties (slot, publication, heartbeat, backlog snapshot, value handling), minus what
 * only the embedded engine has (its offset store), with the password as a Connect config provider
 * reference ({@value #PASSWORD_REFERENCE}), never the secret. {@code unpoll connect-config} prints
 * it; docs/kafka-connect.md explains each part.
 */
public final class ConnectorConfig {

  /** The transformation's class, in the plugin {@code unpoll-connect}. */
  public static final String TRANSFORM_CLASS = "dev.unpoll.connect.UnpollEventRouter";

  /** The transformation's alias in the connector configuration. */
  public static final String TRANSFORM_ALIAS = "unpoll";

  /**
   * Debezium's PostgreSQL connector with the relay's same-LSN hold-back, in the plugin {@code
   * unpoll-connect}.
   */
  public static final String CONNECTOR_CLASS = "dev.unpoll.connect.UnpollPostgresConnector";

  /** The environment variable of the worker that holds the database password. */
  public static final String PASSWORD_ENV = "UNPOLL_DB_PASSWORD";

  /** The password as a reference to the worker's {@code env} config provider. */
  public static final String PASSWORD_REFERENCE = "${env:" + PASSWORD_ENV + "}";

  private static final String BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter";

  /** Settings of the embedded engine that a Connect worker owns (offsets) or names itself. */
  private static final List<String> ENGINE_ONLY_PREFIXES =
      List.of("offset.storage", "offset.flush", "name");

  private static final ObjectMapper YAML =
      new ObjectMapper(
          new YAMLFactory()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ConnectorConfig() {}

  /** The connector's default name: {@code unpoll-<slot>}. */
  public static String defaultName(UnpollConfig config) {
    return "unpoll-" + config.source().slot();
  }

  /**
   * The connector configuration, keys sorted.
   *
   * @param config the relay configuration (its tables already narrowed to those to capture)
   * @param mappingYaml the {@code tables} and {@code outbox} sections, from {@link
   *     #mappingYaml(String, Optional)}
   * @param name the connector's name
   */
  public static Map<String, String> of(UnpollConfig config, String mappingYaml, String name) {
    List<TableName> backlog =
        config.tables().stream().filter(TableMapping::backlog).map(TableMapping::table).toList();
    // Connect's connector creates its slot: Debezium's initial snapshot reads the backlog in the
    // snapshot the new slot exports, as the relay does on its first start
    Properties p = DebeziumProperties.of(config, backlog, false, false);
    Map<String, String> c = new TreeMap<>();
    for (String k : p.stringPropertyNames()) {
      if (ENGINE_ONLY_PREFIXES.stream().noneMatch(k::startsWith)) {
        c.put(k, p.getProperty(k));
      }
    }
    c.put("name", name);
    c.put("connector.class", CONNECTOR_CLASS);
    c.put("tasks.max", "1");
    c.put("database.password", PASSWORD_REFERENCE);
    c.put("key.converter", BYTES);
    c.put("value.converter", BYTES);
    c.put("header.converter", BYTES);
    // a record the transformation cannot map stops the task: tolerating it would move the
    // offsets past it, lost for good
    c.put("errors.tolerance", "none");
    c.put("transforms", TRANSFORM_ALIAS);
    c.put("transforms." + TRANSFORM_ALIAS + ".type", TRANSFORM_CLASS);
    c.put("transforms." + TRANSFORM_ALIAS + ".mapping", mappingYaml);
    c.put("transforms." + TRANSFORM_ALIAS + ".publication", config.source().publication());
    return c;
  }

  /** {@link #of} as the JSON object {@code PUT /connectors/<name>/config} takes. */
  public static String json(Map<String, String> config) {
    ObjectNode o = JSON.createObjectNode();
    config.forEach(o::put);
    try {
      return JSON.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  /**
   * The {@code tables} (only {@code table}'s, when given) and {@code outbox} sections of an {@code
   * unpoll.yaml}, as YAML text for the transformation. {@code ${NAME}} references in them stay
   * references, resolved from the worker's environment.
   *
   * @throws RelayConfigException when {@code table} is not mapped
   */
  public static String mappingYaml(String unpollYaml, Optional<TableName> table) {
    JsonNode root;
    try {
      root = YAML.readTree(unpollYaml);
    } catch (JsonProcessingException e) {
      throw new RelayConfigException(
          List.of("config: not valid YAML (" + e.getOriginalMessage() + ")"));
    }
    Map<String, JsonNode> sections = new LinkedHashMap<>();
    if (root != null && root.has("outbox")) {
      sections.put("outbox", root.get("outbox"));
    }
    JsonNode tables = root == null ? null : root.get("tables");
    if (tables != null && tables.isArray()) {
      ArrayNode kept = YAML.createArrayNode();
      for (JsonNode t : tables) {
        if (table.isEmpty() || table.get().equals(TableName.parse(t.path("table").asText()))) {
          kept.add(t);
        }
      }
      if (table.isPresent() && kept.isEmpty()) {
        throw new RelayConfigException(
            List.of(
                "tables: "
                    + table.get()
                    + " is not mapped in this configuration; map it (unpoll plan --table "
                    + table.get()
                    + " --out unpoll.yaml) or name a mapped table"));
      }
      sections.put("tables", kept);
    }
    ObjectNode out = YAML.createObjectNode();
    sections.forEach(out::set);
    try {
      return YAML.writeValueAsString(out);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write YAML", e);
    }
  }
}
