package dev.unpoll.relay;

import dev.unpoll.contract.OutboxFormat;
import dev.unpoll.contract.TableName;
import dev.unpoll.relay.internal.ConfigReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The relay's configuration: one YAML file, one typed record per concern. The format is {@code
 * docs/reference/configuration.md}; {@link #load(Path)} validates it and reports every problem at
 * once in a {@link RelayConfigException}.
 */
public record RelayConfig(
    Source source,
    Kafka kafka,
    Offsets offsets,
    Optional<Outbox> outbox,
    List<TableMapping> tables,
    Http http,
    Ha ha,
    Monitoring monitoring) {

  /** Default interval between heartbeats. */
  public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(10);

  /** Default outbox table. */
  public static final String DEFAULT_OUTBOX_TABLE = "public." + OutboxFormat.DEFAULT_TABLE;

  /** Default outbox topic pattern; {@code ${aggregatetype}} is replaced per event. */
  public static final String DEFAULT_TOPIC_PATTERN = "outbox.${aggregatetype}";

  /** Default prefix of outbox WAL messages. */
  public static final String DEFAULT_WAL_MESSAGE_PREFIX = OutboxFormat.DEFAULT_WAL_MESSAGE_PREFIX;

  /** Default HTTP port of /health, /ready, /metrics. */
  public static final int DEFAULT_HTTP_PORT = 8080;

  /** Default retained-WAL warning threshold: 1 GiB (the slot monitor's default, written once). */
  public static final long DEFAULT_RETAINED_WAL_WARNING =
      dev.unpoll.relay.ops.SlotMonitor.DEFAULT_RETAINED_WAL_WARNING_BYTES;

  /** Copies the lists. */
  public RelayConfig {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(offsets, "offsets");
    Objects.requireNonNull(outbox, "outbox");
    tables = List.copyOf(tables);
    Objects.requireNonNull(http, "http");
    Objects.requireNonNull(ha, "ha");
    Objects.requireNonNull(monitoring, "monitoring");
  }

  /**
   * Reads and validates a YAML file, substituting {@code ${ENV}} from the process environment.
   *
   * @throws RelayConfigException listing every problem
   */
  public static RelayConfig load(Path file) {
    return load(file, System.getenv());
  }

  /**
   * Reads and validates a YAML file, substituting {@code ${NAME}} from {@code env}.
   *
   * @throws RelayConfigException listing every problem
   */
  public static RelayConfig load(Path file, Map<String, String> env) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new RelayConfigException(
          List.of(
              "config file "
                  + file
                  + ": cannot be read ("
                  + e.getClass().getSimpleName()
                  + ": "
                  + e.getMessage()
                  + "); pass an existing, readable file with --config"));
    }
    return parse(text, env);
  }

  /**
   * Parses and validates YAML text, substituting {@code ${NAME}} from {@code env}.
   *
   * @throws RelayConfigException listing every problem
   */
  public static RelayConfig parse(String yaml, Map<String, String> env) {
    return new ConfigReader(env).read(yaml);
  }

  /**
   * The source database.
   *
   * @param jdbcUrl {@code jdbc:postgresql://host:port/db?params}; parameters such as {@code
   *     sslmode} pass through
   * @param user database user (needs REPLICATION)
   * @param password password, usually {@code ${ENV}}; never logged
   * @param slot the replication slot, one per relay
   * @param publication the publication covering the captured tables and the heartbeat table
   * @param heartbeatInterval how often the relay writes a heartbeat so an idle database does not
   *     pin WAL
   */
  public record Source(
      String jdbcUrl,
      String user,
      String password,
      String slot,
      String publication,
      Duration heartbeatInterval) {
    @Override
    public String toString() {
      return "Source[jdbcUrl="
          + jdbcUrl
          + ", user="
          + user
          + ", password=****, slot="
          + slot
          + ", publication="
          + publication
          + ", heartbeatInterval="
          + heartbeatInterval
          + "]";
    }
  }

  /**
   * The Kafka cluster.
   *
   * @param bootstrapServers {@code host:port,...}
   * @param properties passed through to the producer (TLS, SASL, ...); values never logged
   */
  public record Kafka(String bootstrapServers, Map<String, String> properties) {
    /** Copies the map. */
    public Kafka {
      properties = Map.copyOf(properties);
    }

    @Override
    public String toString() {
      return "Kafka[bootstrapServers="
          + bootstrapServers
          + ", properties="
          + properties.keySet()
          + "]";
    }
  }

  /** Where Debezium's offsets live. */
  public enum OffsetStore {
    /** In the source database (default): a sidecar needs no disk. */
    JDBC,
    /** In a local file. */
    FILE
  }

  /**
   * Offsets.
   *
   * @param store jdbc (default) or file
   * @param file the file, only with {@link OffsetStore#FILE}
   */
  public record Offsets(OffsetStore store, Optional<Path> file) {}

  /**
   * The transactional outbox.
   *
   * @param table the outbox table, or empty when only WAL messages are used ({@code table: none})
   * @param topicPattern topic for an event; {@code ${aggregatetype}} is replaced
   * @param walMessagePrefix prefix of {@code pg_logical_emit_message} outbox messages
   * @param columns the outbox table's column names by their default names ({@link
   *     OutboxFormat#RELAY_COLUMNS}); a name not renamed maps to itself
   */
  public record Outbox(
      Optional<TableName> table,
      String topicPattern,
      String walMessagePrefix,
      Map<String, String> columns) {
    /** Fills in the default names and copies the map. */
    public Outbox {
      Map<String, String> all = new java.util.LinkedHashMap<>();
      for (String c : OutboxFormat.RELAY_COLUMNS) {
        all.put(c, columns.getOrDefault(c, c));
      }
      columns = Map.copyOf(all);
    }

    /** An outbox with the default column names. */
    public Outbox(Optional<TableName> table, String topicPattern, String walMessagePrefix) {
      this(table, topicPattern, walMessagePrefix, Map.of());
    }

    /** The name of the column whose default name is {@code defaultName}. */
    public String column(String defaultName) {
      String c = columns.get(defaultName);
      if (c == null) {
        throw new IllegalArgumentException("not an outbox column: " + defaultName);
      }
      return c;
    }
  }

  /** What a legacy row's Kafka value is. */
  public enum ValueMode {
    /** A JSON object of the row's columns minus its bookkeeping columns. */
    ROW,
    /** The payload column alone: JSON as JSON, text as text, bytea as bytes. */
    PAYLOAD
  }

  /**
   * The poller's status column.
   *
   * @param column the column
   * @param pending values that mean "not yet handled" (the backlog condition)
   * @param done values that mean "handled"
   * @param inProgress values the poller sets while it works on a row (e.g. PROCESSING)
   * @param failed values the poller sets when handling failed and it may re-queue the row
   */
  public record Status(
      String column,
      List<String> pending,
      List<String> done,
      List<String> inProgress,
      List<String> failed) {
    /** Copies the lists. */
    public Status {
      pending = List.copyOf(pending);
      done = List.copyOf(done);
      inProgress = List.copyOf(inProgress);
      failed = List.copyOf(failed);
    }

    /** A status without in-progress or failed values. */
    public Status(String column, List<String> pending, List<String> done) {
      this(column, pending, done, List.of(), List.of());
    }
  }

  /**
   * One captured legacy table.
   *
   * @param table the table
   * @param topic its topic
   * @param key key columns; empty means the primary key
   * @param value row or payload
   * @param payloadColumn the payload column, with {@link ValueMode#PAYLOAD}
   * @param eventType {@code ce_type}; empty means {@code <schema>.<table>.inserted}
   * @param bookkeepingColumns the poller's columns: left out of row values, and updates touching
   *     only them emit nothing
   * @param status the poller's status column, if any
   * @param backlog publish rows still pending when capture starts, once
   * @param emitUpdates updates of business columns as events
   * @param emitDeletes deletes as events
   */
  public record TableMapping(
      TableName table,
      String topic,
      List<String> key,
      ValueMode value,
      Optional<String> payloadColumn,
      Optional<String> eventType,
      List<String> bookkeepingColumns,
      Optional<Status> status,
      boolean backlog,
      boolean emitUpdates,
      boolean emitDeletes) {
    /** Copies the lists. */
    public TableMapping {
      key = List.copyOf(key);
      bookkeepingColumns = List.copyOf(bookkeepingColumns);
    }
  }

  /**
   * HTTP endpoints.
   *
   * @param port port of /health, /ready, /metrics; 0 turns them off
   */
  public record Http(int port) {}

  /**
   * High availability.
   *
   * @param enabled several replicas, one active
   * @param lockName name of the PostgreSQL advisory lock that elects the active replica
   */
  public record Ha(boolean enabled, String lockName) {}

  /**
   * Monitoring.
   *
   * @param retainedWalWarningBytes warn and flag /ready when the slot retains more WAL than this
   */
  public record Monitoring(long retainedWalWarningBytes) {}
}
