package dev.unpoll.contract.config;

import dev.unpoll.contract.OutboxFormat;
import dev.unpoll.contract.TableName;
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
 * once in a {@link ConfigException}.
 */
public record UnpollConfig(
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

  /**
   * How long Debezium waits when the slot has nothing, and for a fuller batch: the relay's latency
   * against its idle CPU (docs/relay.md, "Latency and idle cost").
   */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(10);

  /** Default outbox table. */
  public static final String DEFAULT_OUTBOX_TABLE = "public." + OutboxFormat.DEFAULT_TABLE;

  /** The one placeholder in the outbox topic pattern that is not an environment variable. */
  public static final String AGGREGATE_TYPE_PLACEHOLDER = "${aggregatetype}";

  /** Default outbox topic pattern; {@code ${aggregatetype}} is replaced per event. */
  public static final String DEFAULT_TOPIC_PATTERN = "outbox.${aggregatetype}";

  /** Default prefix of outbox WAL messages. */
  public static final String DEFAULT_WAL_MESSAGE_PREFIX = OutboxFormat.DEFAULT_WAL_MESSAGE_PREFIX;

  /** Default HTTP port of /health, /ready, /metrics. */
  public static final int DEFAULT_HTTP_PORT = 8080;

  /** Default retained-WAL warning threshold: 1 GiB (also the slot monitor's default). */
  public static final long DEFAULT_RETAINED_WAL_WARNING = 1L << 30;

  /** Copies the lists. */
  public UnpollConfig {
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
   * @throws ConfigException listing every problem
   */
  public static UnpollConfig load(Path file) {
    return load(file, System.getenv());
  }

  /**
   * Reads and validates a YAML file, substituting {@code ${NAME}} from {@code env}.
   *
   * @throws ConfigException listing every problem
   */
  public static UnpollConfig load(Path file, Map<String, String> env) {
    return parse(read(file), env);
  }

  /**
   * The text of a configuration file.
   *
   * @throws ConfigException when it cannot be read
   */
  static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(
          List.of(
              "config file "
                  + file
                  + ": cannot be read ("
                  + e.getClass().getSimpleName()
                  + ": "
                  + e.getMessage()
                  + "); pass an existing, readable file with --config"));
    }
  }

  /**
   * Parses and validates YAML text, substituting {@code ${NAME}} from {@code env}.
   *
   * @throws ConfigException listing every problem
   */
  public static UnpollConfig parse(String yaml, Map<String, String> env) {
    return new ConfigReader(env).read(yaml);
  }

  /**
   * Reads the mapping of one table from a configuration file's {@code tables}, substituting {@code
   * ${NAME}} from the process environment in that section only: what an application needs to build
   * a mapped table's consumer (for example {@code DualRunClaim.from(mapping)}) without the relay's
   * secrets.
   *
   * @param table the table as written in the file or on the command line ({@code
   *     public.order_integration}, {@code "Sales"."Order Queue"})
   * @throws ConfigException when the file cannot be read, the section is invalid, or it does not
   *     map the table
   */
  public static TableMapping loadMapping(Path file, String table) {
    return loadMapping(file, table, System.getenv());
  }

  /** Like {@link #loadMapping(Path, String)}, substituting {@code ${NAME}} from {@code env}. */
  public static TableMapping loadMapping(Path file, String table, Map<String, String> env) {
    return parseMapping(read(file), table, env, file.toString());
  }

  /**
   * Like {@link #loadMapping(Path, String, Map)}, from YAML text (a classpath resource, say).
   *
   * @param source how to name the text in messages (a file name or resource)
   */
  public static TableMapping parseMapping(
      String yaml, String table, Map<String, String> env, String source) {
    TableName name;
    try {
      name = TableName.parse(table);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(List.of("table \"" + table + "\": " + e.getMessage()));
    }
    List<TableMapping> tables = new ConfigReader(env).readTables(yaml);
    for (TableMapping m : tables) {
      if (m.table().equals(name)) {
        return m;
      }
    }
    throw new ConfigException(
        List.of(
            "tables: "
                + source
                + " does not map "
                + name.display()
                + (tables.isEmpty()
                    ? " (it maps no table)"
                    : " (it maps "
                        + String.join(", ", tables.stream().map(m -> m.table().display()).toList())
                        + ")")
                + "; add it with `unpoll plan --table "
                + name.display()
                + " --out "
                + source
                + "`"));
  }

  /**
   * What a configuration file says, every section optional (see {@link
   * ConfigReader#readPartial(String)}).
   *
   * @param source the source section; settings the file does not have are null
   * @param kafka the kafka section
   * @param tables the table mappings, each checked as the relay checks it
   */
  public record Partial(Optional<Source> source, Optional<Kafka> kafka, List<TableMapping> tables) {
    /** Copies the list. */
    public Partial {
      tables = List.copyOf(tables);
    }

    /** The mapping of {@code table}, if the file has one. */
    public Optional<TableMapping> mapping(TableName table) {
      return tables.stream().filter(m -> m.table().equals(table)).findFirst();
    }
  }

  /**
   * What a capture maps changes with: the {@code outbox} and {@code tables} sections (read by
   * {@link ConfigReader#readCapture(String)} for the Kafka Connect transformation).
   *
   * @param outbox the outbox, if enabled
   * @param tables the table mappings
   */
  public record Capture(Optional<Outbox> outbox, List<TableMapping> tables) {
    /** Copies the list. */
    public Capture {
      Objects.requireNonNull(outbox, "outbox");
      tables = List.copyOf(tables);
    }
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
   * @param pollInterval how long Debezium waits when the slot has nothing and for a fuller batch
   */
  public record Source(
      String jdbcUrl,
      String user,
      String password,
      String slot,
      String publication,
      Duration heartbeatInterval,
      Duration pollInterval) {
    /** A source with the default poll interval. */
    public Source(
        String jdbcUrl,
        String user,
        String password,
        String slot,
        String publication,
        Duration heartbeatInterval) {
      this(jdbcUrl, user, password, slot, publication, heartbeatInterval, DEFAULT_POLL_INTERVAL);
    }

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
          + ", pollInterval="
          + pollInterval
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
