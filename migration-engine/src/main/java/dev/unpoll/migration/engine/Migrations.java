package dev.unpoll.migration.engine;

import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.ConfigException;
import dev.unpoll.contract.config.JdbcUrl;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.DoctorReport;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Progress;
import dev.unpoll.migration.Reconciliation;
import dev.unpoll.migration.Servers;
import dev.unpoll.migration.StatusReport;
import dev.unpoll.migration.TableAnalysis;
import dev.unpoll.migration.Transition;
import dev.unpoll.migration.TransitionOptions;
import dev.unpoll.migration.internal.Analyzer;
import dev.unpoll.migration.internal.ConfigFile;
import dev.unpoll.migration.internal.ControlSchema;
import dev.unpoll.migration.internal.Db;
import dev.unpoll.migration.internal.Doctor;
import dev.unpoll.migration.internal.Names;
import dev.unpoll.migration.internal.OperatorGrants;
import dev.unpoll.migration.internal.PhaseMachine;
import dev.unpoll.migration.internal.RelayGrants;
import dev.unpoll.migration.internal.Settings;
import dev.unpoll.migration.internal.Status;
import dev.unpoll.migration.internal.Verifier;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The migration engine's entry point: what every {@code unpoll} command calls, and what a demo, a
 * test or a service drives directly. The per-table phase machine ({@link #capture}, {@link
 * #advance}, {@link #rollback}), the reconciliation ({@link #verify}), the table analysis ({@link
 * #analyze}, {@link #plan}), the prerequisites ({@link #doctor}) and the state of every migrated
 * table ({@link #status}). State lives in the database's {@code unpoll} schema; every applied
 * transition is logged with its gate results, actor and reason. Tables are the relay's {@link
 * TableName}; results are the immutable records of {@code dev.unpoll.migration}.
 *
 * <pre>{@code
 * Migrations m = Migrations.builder().jdbcUrl(url).user("app").password(pw)
 *     .kafkaBootstrap("localhost:9092").configFile(Path.of("unpoll.yaml")).build();
 * Transition t = m.capture(TableName.parse("public.order_integration"), TransitionOptions.defaults());
 * }</pre>
 */
public final class Migrations {
  private final Settings settings;
  private final Map<String, String> environment;

  private Migrations(Settings settings, Map<String, String> environment) {
    this.settings = settings;
    this.environment = environment;
  }

  /** A builder; connection settings as the command-line options. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Parses a table name as {@code --table} takes it ({@link TableName#parse}).
   *
   * @throws MigrationException of kind {@link MigrationException.Kind#USAGE} when the text is not a
   *     valid table name
   */
  public static TableName table(String text) {
    return Names.table(text);
  }

  /**
   * Checks that a database is given (a PostgreSQL JDBC URL), without connecting: every method that
   * reads the database checks it first; call this to fail before anything else.
   *
   * @throws MigrationException of kind {@link MigrationException.Kind#USAGE} saying how to give one
   */
  public Migrations requireDatabase() {
    settings.requireJdbcUrl();
    return this;
  }

  /**
   * Opens a tail of {@code topic} (Kafka only: no database is needed), at its oldest record or,
   * unless {@code fromBeginning}, after its newest.
   */
  public EventTail tail(String topic, boolean fromBeginning) {
    return EventTail.open(settings, topic, fromBeginning);
  }

  /** The table's current phase ({@link Phase#ANALYZED} when unpoll has not captured it). */
  public Phase phase(TableName table) {
    try (Connection c = Db.connect(settings)) {
      return ControlSchema.state(c, table, false)
          .map(ControlSchema.State::phase)
          .orElse(Phase.ANALYZED);
    } catch (SQLException e) {
      throw Db.failure("cannot read the phase of " + table.display(), e);
    }
  }

  /**
   * Starts capture: control schema, heartbeat table, publication membership and (by default) the
   * replication slot, behind the prerequisite gates. Run again in {@code capturing}, it re-applies
   * the setup without logging a transition.
   */
  public Transition capture(TableName table, TransitionOptions options) {
    return new PhaseMachine(settings).move(table, Phase.CAPTURING, options);
  }

  /** Moves the table forward to {@code target}, the phase after its current one. */
  public Transition advance(TableName table, Phase target, TransitionOptions options) {
    return new PhaseMachine(settings).move(table, target, options);
  }

  /** Moves the table back one phase and undoes what entering its current phase set up. */
  public Transition rollback(TableName table, TransitionOptions options) {
    return new PhaseMachine(settings).rollback(table, options);
  }

  /**
   * The reconciliation of {@code unpoll verify}: rows created in the window (from {@code
   * options.window()} ago, never before capture, until {@code options.settle()} ago) against the
   * topic's events and the consumer's records of {@code options.consumerGroup()} (default: the
   * group recorded at shadow; none: the consumer side is not compared).
   */
  public Reconciliation verify(TableName table, TransitionOptions options) {
    return verify(table, options, Progress.NONE);
  }

  /** {@link #verify(TableName, TransitionOptions)}, reporting progress of the long reads. */
  public Reconciliation verify(TableName table, TransitionOptions options, Progress progress) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(progress, "progress");
    try (Connection c = Db.connect(settings)) {
      return Verifier.verify(c, settings, table, options, progress);
    } catch (SQLException e) {
      throw Db.failure("cannot verify " + table.display(), e);
    }
  }

  /** What {@code unpoll analyze} finds: the table's shape, roles and readiness verdict. */
  public TableAnalysis analyze(TableName table) {
    return plan(table, null).analysis();
  }

  /**
   * The analysis of {@code table} with, when it is ready, its proposed relay mapping publishing to
   * {@code topic} (null: the default topic): what {@code unpoll analyze} and {@code unpoll plan}
   * show and write.
   */
  public TablePlan plan(TableName table, String topic) {
    Objects.requireNonNull(table, "table");
    try (Connection c = Db.connect(settings)) {
      return TablePlan.of(Analyzer.analyze(c, table), topic);
    } catch (SQLException e) {
      throw Db.failure("cannot analyze " + table.display(), e);
    }
  }

  /**
   * An observer of {@code table}'s rows on a connection of its own ({@code unpoll analyze
   * --observe}): take samples while the poller works, then {@link MotionObserver#infer}. Close it.
   *
   * @throws MigrationException of kind {@link MigrationException.Kind#CHECK_FAILED} when the table
   *     has no primary key (rows are watched by key)
   */
  public MotionObserver observe(TableName table) {
    Objects.requireNonNull(table, "table");
    Connection c = Db.connect(settings);
    try {
      return MotionObserver.open(c, table);
    } catch (RuntimeException e) {
      try {
        c.close();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * The {@code source} and {@code kafka} sections of a new {@code unpoll.yaml}, from what these
   * settings were given, so that the file {@code unpoll plan} writes runs the relay and the next
   * commands with nothing edited by hand. The password is written as a reference to {@code
   * passwordVariable} (never the secret); the slot and the publication are the ones given, else
   * {@link RelayNames#defaultSlotFor derived from the database's name}; Kafka is {@code
   * ${KAFKA_BOOTSTRAP_SERVERS}} when no bootstrap servers were given.
   *
   * @param passwordVariable the environment variable that will hold the password; null: {@code
   *     PGPASSWORD}
   */
  public String newConfigFile(String passwordVariable) {
    if (passwordVariable == null) {
      passwordVariable = Settings.DEFAULT_PASSWORD_ENV;
    }
    String url = settings.requireJdbcUrl();
    String database = JdbcUrl.parse(url).map(JdbcUrl::database).orElse("db");
    String slot = settings.hasSlot() ? settings.slot() : RelayNames.defaultSlotFor(database);
    String publication =
        settings.hasPublication() ? settings.publication() : RelayNames.defaultSlotFor(database);
    StringBuilder y = new StringBuilder();
    y.append("# written by unpoll plan; reference: docs/reference/configuration.md\n")
        .append("source:\n")
        .append("  jdbc-url: ")
        .append(yamlScalar(url))
        .append('\n');
    if (settings.user() != null) {
      y.append("  user: ").append(yamlScalar(settings.user())).append('\n');
    }
    y.append("  password: ${")
        .append(passwordVariable)
        .append("}  # the secret stays in the environment\n")
        .append("  slot: ")
        .append(slot)
        .append('\n')
        .append("  publication: ")
        .append(publication)
        .append('\n')
        .append("kafka:\n")
        .append("  bootstrap-servers: ")
        .append(
            settings.kafkaBootstrap() != null
                ? yamlScalar(settings.kafkaBootstrap())
                : "${KAFKA_BOOTSTRAP_SERVERS}")
        .append('\n');
    return y.toString();
  }

  private static String yamlScalar(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  /**
   * The Kafka bootstrap servers (the option over the file's {@code kafka.bootstrap-servers}).
   *
   * @throws MigrationException (usage) when neither gives them, saying how to
   */
  public String kafkaBootstrap() {
    return settings.requireKafka();
  }

  /**
   * The database and Kafka the options name, resolved as for every other command, for a tool that
   * opens its own clients ({@code unpoll bench}).
   *
   * @throws MigrationException (usage) without a database URL or Kafka bootstrap servers
   */
  public Servers servers() {
    return new Servers(
        settings.requireJdbcUrl(),
        settings.user(),
        settings.password(),
        settings.requireKafka(),
        settings.kafkaProperties());
  }

  /** The file's {@code kafka.properties} (TLS, SASL, ...), for the Kafka clients a tool opens. */
  public Map<String, String> kafkaProperties() {
    return settings.kafkaProperties();
  }

  /**
   * The change-data-capture prerequisites ({@code unpoll doctor}) of the server, of {@code tables}
   * and of the configuration file's tables, and of Kafka when its bootstrap servers are set.
   */
  public DoctorReport doctor(List<TableName> tables) {
    return Doctor.run(settings, List.copyOf(tables));
  }

  /**
   * The least-privilege role of the relay that runs the configuration file ({@code unpoll grants}):
   * SQL statements for a superuser to run, idempotent, every identifier quoted, without the
   * password (set afterwards, e.g. psql's {@code \password}). The role may log in and replicate,
   * reads the captured tables, writes the heartbeat table, and owns a schema named after it where
   * the relay keeps its offsets and backlog ledger; the publication is created when missing.
   * Nothing connects to a server.
   *
   * @param role the role's name; null: {@value RelayNames#DEFAULT_ROLE}
   * @throws MigrationException (usage) without a configuration file, or when it is not one the
   *     relay can run, or when the role name is not a valid identifier
   */
  public List<String> relayGrants(String role) {
    ConfigFile file =
        settings
            .config()
            .orElseThrow(
                () ->
                    MigrationException.usage(
                        "no configuration: pass --config unpoll.yaml (the relay's file)"));
    UnpollConfig config;
    try {
      config = UnpollConfig.load(file.path(), environment);
    } catch (ConfigException e) {
      throw MigrationException.usage("--config: " + file.path() + ": " + e.getMessage());
    }
    return RelayGrants.statements(config, role == null ? RelayNames.DEFAULT_ROLE : role);
  }

  /** The migration operator's role when {@code unpoll grants --operator} names none. */
  public static final String DEFAULT_OPERATOR_ROLE = OperatorGrants.DEFAULT_ROLE;

  /**
   * The migration operator's least-privilege role ({@code unpoll grants --operator}): SQL
   * statements for a superuser to run, idempotent, every identifier quoted, without the password.
   * The role may log in and replicate (the slot), create in the database (the control schema, the
   * publication), owns the control schema, the heartbeat table and the publication, and is a member
   * of each captured table's owner (found by the script when it runs: nothing connects to a server
   * here).
   *
   * @param role the role's name; null: {@value #DEFAULT_OPERATOR_ROLE}
   * @param tables tables to migrate besides the configuration file's
   * @throws MigrationException (usage) without a database URL, a publication or a slot, without any
   *     table, or when the role name is not a valid identifier
   */
  public List<String> operatorGrants(String role, List<TableName> tables) {
    if (settings.config().isEmpty()) {
      throw MigrationException.usage(
          "no configuration: pass --config unpoll.yaml (the relay's file)");
    }
    String url = settings.requireJdbcUrl();
    String database =
        JdbcUrl.parse(url)
            .map(JdbcUrl::database)
            .orElseThrow(
                () ->
                    MigrationException.usage(
                        "--db: the JDBC URL names no database (expected"
                            + " jdbc:postgresql://host:5432/database)"));
    java.util.Set<TableName> all = new java.util.LinkedHashSet<>();
    settings.config().ifPresent(f -> f.tables().forEach(m -> all.add(m.table())));
    all.addAll(tables);
    String relayRole =
        settings
            .config()
            .flatMap(f -> f.content().source())
            .map(UnpollConfig.Source::user)
            .orElse(null);
    return OperatorGrants.statements(
        database,
        settings.publication(),
        settings.slot(),
        relayRole,
        List.copyOf(all),
        role == null ? OperatorGrants.DEFAULT_ROLE : role);
  }

  /**
   * Every migrated table's phase, the relay slot and, with Kafka, the last event of each topic
   * ({@code unpoll status}); with {@code logTable} (may be null), also that table's log.
   */
  public StatusReport status(TableName logTable) {
    return Status.read(settings, logTable);
  }

  /**
   * Like {@link #status(TableName)}, one sample after {@code previous} (may be null: the first):
   * each table's {@link StatusReport.TableStatus#eventsPerSecond()} is the growth of its topic's
   * end offsets between the two samples. What {@code unpoll status --watch} calls every interval.
   */
  public StatusReport status(TableName logTable, StatusReport previous) {
    return Status.read(settings, logTable, previous);
  }

  /** Builds {@link Migrations}; {@link #build()} resolves the settings like the command line. */
  public static final class Builder {
    private String jdbcUrl;
    private String user;
    private String password;
    private String passwordEnv;
    private String kafkaBootstrap;
    private String slot;
    private String publication;
    private Path configFile;
    private Map<String, String> environment = System.getenv();

    private Builder() {}

    /** PostgreSQL JDBC URL. */
    public Builder jdbcUrl(String jdbcUrl) {
      this.jdbcUrl = jdbcUrl;
      return this;
    }

    /** Database user. */
    public Builder user(String user) {
      this.user = user;
      return this;
    }

    /** Database password (takes precedence over {@link #passwordEnv}). */
    public Builder password(String password) {
      this.password = password;
      return this;
    }

    /** Environment variable holding the password. */
    public Builder passwordEnv(String variable) {
      this.passwordEnv = variable;
      return this;
    }

    /** Kafka bootstrap servers. */
    public Builder kafkaBootstrap(String bootstrap) {
      this.kafkaBootstrap = bootstrap;
      return this;
    }

    /** Replication slot (overrides the file's {@code source.slot}). */
    public Builder slot(String slot) {
      this.slot = slot;
      return this;
    }

    /** Publication (overrides the file's {@code source.publication}). */
    public Builder publication(String publication) {
      this.publication = publication;
      return this;
    }

    /** The relay's configuration file. */
    public Builder configFile(Path file) {
      this.configFile = file;
      return this;
    }

    /** The environment for {@code ${NAME}} and password variables (default: the process's). */
    public Builder environment(Map<String, String> environment) {
      this.environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
      return this;
    }

    /**
     * Resolves the settings (configuration file, environment, slot and publication names); problems
     * are {@link MigrationException}s naming the option. The database is checked when first used,
     * or by {@link Migrations#requireDatabase()}.
     */
    public Migrations build() {
      return new Migrations(settings(), environment);
    }

    private Settings settings() {
      Settings.Given o = new Settings.Given(jdbcUrl, user, passwordEnv, kafkaBootstrap, configFile);
      Settings s = Settings.resolve(o, slot, publication, environment);
      if (password != null) {
        s = s.withPassword(password);
      }
      return s;
    }
  }
}
