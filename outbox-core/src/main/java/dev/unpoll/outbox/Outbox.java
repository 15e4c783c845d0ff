package dev.unpoll.outbox;

import dev.unpoll.contract.OutboxFormat;
import dev.unpoll.outbox.internal.ContentTypes;
import dev.unpoll.outbox.internal.EncodedEvent;
import dev.unpoll.outbox.internal.EventWriter;
import dev.unpoll.outbox.internal.Identifiers;
import dev.unpoll.outbox.internal.JacksonSupport;
import dev.unpoll.outbox.internal.Json;
import dev.unpoll.outbox.internal.OutboxAccess;
import dev.unpoll.outbox.internal.OutboxDdl;
import dev.unpoll.outbox.internal.SchemaChecker;
import dev.unpoll.outbox.internal.SpringTransactions;
import dev.unpoll.outbox.internal.TableWriter;
import dev.unpoll.outbox.internal.TraceContext;
import dev.unpoll.outbox.internal.WalMessageWriter;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transactional outbox writer: writes events through the caller's JDBC connection, inside the
 * caller's transaction, so the business write and its events commit or roll back together. Build it
 * once with {@link #builder()} and share it: it is immutable and thread-safe.
 *
 * <pre>{@code
 * Outbox outbox = Outbox.builder().build(); // TABLE strategy, public.unpoll_outbox
 * connection.setAutoCommit(false);
 * // ... the business write on the same connection ...
 * outbox.publish(connection, OutboxEvent.of("order", "42", "OrderCreated", order));
 * connection.commit();
 * }</pre>
 *
 * <p>For Spring-managed transactions see {@code dev.unpoll.outbox.spring.SpringOutbox}; for jOOQ
 * see {@code dev.unpoll.outbox.jooq.JooqOutbox}.
 */
public final class Outbox {
  private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

  static {
    OutboxAccess.install(
        new OutboxAccess.Access() {
          @Override
          public List<EncodedEvent> encode(Outbox outbox, Collection<OutboxEvent> events) {
            return outbox.encodeAll(events);
          }

          @Override
          public void writeAtCommit(
              Outbox outbox, Connection connection, List<EncodedEvent> events, boolean andCommit) {
            outbox.writeAtCommit(connection, events, andCommit);
          }
        });
  }

  /** Default schema of the outbox table. */
  public static final String DEFAULT_SCHEMA = "public";

  /** Default name of the outbox table. */
  public static final String DEFAULT_TABLE = OutboxFormat.DEFAULT_TABLE;

  /** Default prefix of WAL messages; the relay filters on it. */
  public static final String DEFAULT_WAL_PREFIX = OutboxFormat.DEFAULT_WAL_MESSAGE_PREFIX;

  /** Default strategy. */
  public static final OutboxStrategy DEFAULT_STRATEGY = OutboxStrategy.TABLE;

  /** Classpath resource holding the DDL of the default table (plain SQL for Flyway/Liquibase). */
  public static final String DDL_RESOURCE = OutboxDdl.RESOURCE;

  private final OutboxStrategy strategy;
  private final String schema;
  private final String table;
  private final EnumMap<OutboxColumn, String> columns;
  private final boolean deleteAfterInsert;
  private final String walPrefix;
  private final PayloadSerializer serializer;
  private final Clock clock;
  private final EventWriter writer;

  private Outbox(Builder b) {
    this.strategy = b.strategy;
    this.schema = b.schema;
    this.table = b.table;
    this.columns = new EnumMap<>(b.columns);
    this.deleteAfterInsert = b.deleteAfterInsert;
    this.walPrefix = b.walPrefix;
    this.serializer = b.serializer != null ? b.serializer : defaultSerializer();
    this.clock = b.clock;
    if (strategy == OutboxStrategy.TABLE) {
      List<String> quoted = new ArrayList<>();
      for (OutboxColumn c : OutboxColumn.values()) {
        quoted.add(Identifiers.quote(columns.get(c)));
      }
      this.writer =
          new TableWriter(
              schema + "." + table,
              Identifiers.quote(schema) + "." + Identifiers.quote(table),
              quoted,
              deleteAfterInsert);
    } else {
      this.writer = new WalMessageWriter(walPrefix);
    }
  }

  private static PayloadSerializer defaultSerializer() {
    return JacksonSupport.available() ? PayloadSerializer.jackson() : PayloadSerializer.none();
  }

  /** A builder with every default: TABLE strategy on {@code public.unpoll_outbox}. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Writes one event through {@code connection}, in its current transaction.
   *
   * @throws OutboxException if the connection is in auto-commit mode (there is no transaction to
   *     join), the payload cannot be serialized, or the database refuses the write
   */
  public void publish(Connection connection, OutboxEvent event) {
    Objects.requireNonNull(event, "event");
    publishAll(connection, List.of(event));
  }

  /**
   * Writes {@code events}, in order, through {@code connection} in one round trip: one JDBC batch
   * (TABLE) or one statement (WAL_MESSAGE). An empty collection writes nothing.
   *
   * @throws OutboxException as {@link #publish(Connection, OutboxEvent)}; nothing is written if any
   *     event fails to serialize
   */
  public void publishAll(Connection connection, Collection<OutboxEvent> events) {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(events, "events");
    requireTransaction(connection);
    if (events.isEmpty()) {
      return;
    }
    List<EncodedEvent> encoded = encodeAll(events);
    try {
      writer.write(connection, encoded);
    } catch (SQLException e) {
      throw new OutboxException(
          "cannot write "
              + describe(events)
              + " to "
              + writer.target()
              + ": "
              + sqlMessage(e)
              + hint(),
          e);
    }
    logWritten(encoded, "written to");
  }

  /**
   * Writes one event and commits the transaction, in one round trip: the cheapest way to publish
   * when your code owns the commit. See {@link #publishAllAndCommit(Connection, Collection)}.
   */
  public void publishAndCommit(Connection connection, OutboxEvent event) {
    Objects.requireNonNull(event, "event");
    publishAllAndCommit(connection, List.of(event));
  }

  /**
   * Writes {@code events} and commits the connection's transaction, in one round trip: the events'
   * statement and the {@code COMMIT} travel together, so the events cost the transaction no round
   * trip of their own ({@link #publishAll(Connection, Collection)} followed by {@code
   * connection.commit()} costs one more). Use it at the end of a transaction your code commits
   * itself, in place of {@code connection.commit()}:
   *
   * <pre>{@code
   * connection.setAutoCommit(false);
   * // ... the business write on the same connection ...
   * outbox.publishAndCommit(connection, OutboxEvent.of("order", "42", "OrderCreated", order));
   * }</pre>
   *
   * <p>Either the business write and the events are committed, or nothing is: when anything fails
   * (the write, the commit, the payload's serialization) the transaction is rolled back and an
   * {@link OutboxException} is thrown. As with any commit, if the connection breaks while the
   * commit is in flight, whether it committed is unknown; the message says so.
   *
   * <p>Not for transactions that a framework commits (Spring's {@code @Transactional}, jOOQ's
   * {@code transaction(...)}): committing behind the framework's back would split its transaction.
   * A connection bound to an active Spring transaction is refused; with jOOQ use {@code
   * JooqOutbox}, which publishes inside the transaction. Needs the PostgreSQL JDBC driver (pgjdbc),
   * which sends a multi-statement query in one round trip and sees the transaction ended.
   *
   * @throws OutboxException if the connection is in auto-commit mode or bound to a Spring
   *     transaction (nothing is sent, nothing is rolled back), or if the events could not be
   *     written or the transaction could not be committed (the transaction is rolled back)
   */
  public void publishAllAndCommit(Connection connection, Collection<OutboxEvent> events) {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(events, "events");
    requireTransaction(connection);
    if (SpringTransactions.bound(connection)) {
      throw new OutboxException(
          "this connection belongs to an active Spring-managed transaction, which Spring commits:"
              + " use SpringOutbox.publish(...) inside the transaction instead of"
              + " publishAndCommit, so Spring's commit covers the events");
    }
    List<EncodedEvent> encoded;
    try {
      encoded = encodeAll(events);
    } catch (RuntimeException e) {
      rollbackAfter(connection, e);
      throw e;
    }
    try {
      if (encoded.isEmpty()) {
        connection.commit();
        return;
      }
      writer.writeAndCommit(connection, encoded);
      // pgjdbc already sees the transaction ended, so this sends nothing; it tells pools and
      // wrappers (HikariCP tracks uncommitted work) that the transaction was committed.
      connection.commit();
    } catch (SQLException e) {
      String what =
          encoded.isEmpty() ? "the transaction" : describe(events) + " to " + writer.target();
      if (connectionFailed(e)) {
        throw commitOutcomeUnknown(what, e);
      }
      rollbackAfter(connection, e);
      throw new OutboxException(
          "cannot write and commit "
              + what
              + "; the transaction was rolled back, nothing was committed: "
              + sqlMessage(e)
              + hint(),
          e);
    }
    logWritten(encoded, "committed to");
  }

  /**
   * Writes events held until the end of a framework-managed transaction ({@code SpringOutbox} with
   * deferToCommit); the framework rolls back when this throws.
   */
  private void writeAtCommit(Connection connection, List<EncodedEvent> encoded, boolean andCommit) {
    try {
      if (andCommit) {
        writer.writeAndCommit(connection, encoded);
      } else {
        writer.write(connection, encoded);
      }
    } catch (SQLException e) {
      String what = describeEncoded(encoded) + " to " + writer.target();
      if (andCommit && connectionFailed(e)) {
        throw commitOutcomeUnknown(what, e);
      }
      throw new OutboxException(
          "cannot write "
              + what
              + " at the end of the transaction, so the transaction is rolled back and nothing is"
              + " committed: "
              + sqlMessage(e)
              + hint(),
          e);
    }
    logWritten(encoded, andCommit ? "committed to" : "written to");
  }

  private static boolean connectionFailed(SQLException e) {
    return e.getSQLState() != null && e.getSQLState().startsWith("08");
  }

  private static OutboxException commitOutcomeUnknown(String what, SQLException e) {
    return new OutboxException(
        "the connection failed while writing and committing "
            + what
            + ", so whether the transaction committed is unknown, as with any commit whose"
            + " answer is lost (if it did, the relay delivers the events): "
            + sqlMessage(e),
        e);
  }

  private static String describeEncoded(List<EncodedEvent> encoded) {
    EncodedEvent first = encoded.get(0);
    String one = "event " + first.id() + " type " + first.type();
    return encoded.size() == 1 ? one : encoded.size() + " events (first " + one + ")";
  }

  private List<EncodedEvent> encodeAll(Collection<OutboxEvent> events) {
    Instant now = clock.instant();
    List<EncodedEvent> encoded = new ArrayList<>(events.size());
    for (OutboxEvent e : events) {
      encoded.add(encode(Objects.requireNonNull(e, "events must not contain null"), now));
    }
    return encoded;
  }

  private static void rollbackAfter(Connection connection, Exception cause) {
    try {
      connection.rollback();
    } catch (SQLException | RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  private String hint() {
    return strategy == OutboxStrategy.TABLE
        ? " (Outbox.checkSchema(connection) lists what differs from the expected table)"
        : "";
  }

  private void logWritten(List<EncodedEvent> encoded, String verb) {
    if (LOG.isDebugEnabled()) {
      for (EncodedEvent e : encoded) {
        LOG.debug(
            "outbox event {} type {} aggregate {}/{} {} {}",
            e.id(),
            e.type(),
            e.aggregateType(),
            e.aggregateId(),
            verb,
            writer.target());
      }
    }
  }

  /** Throws unless {@code connection} is inside a transaction (auto-commit off). */
  private static void requireTransaction(Connection connection) {
    boolean autoCommit;
    try {
      autoCommit = connection.getAutoCommit();
    } catch (SQLException e) {
      throw new OutboxException(
          "cannot read the connection's auto-commit mode: " + sqlMessage(e), e);
    }
    if (autoCommit) {
      throw new OutboxException(
          "the connection is in auto-commit mode, so the event would commit on its own instead of"
              + " with your business write: call connection.setAutoCommit(false), do the business"
              + " write and publish on that connection, then connection.commit(); with Spring use"
              + " SpringOutbox inside @Transactional/TransactionTemplate, with jOOQ use JooqOutbox"
              + " inside dsl.transaction(...)");
    }
  }

  private EncodedEvent encode(OutboxEvent e, Instant now) {
    Object payload = e.payload();
    String json;
    boolean isJson;
    boolean base64 = false;
    switch (e.payloadKind()) {
      case "none":
        json = null;
        isJson = true;
        break;
      case "object":
        json = serialize(e, payload);
        isJson = true;
        break;
      case "string":
        isJson = ContentTypes.isJson(e.contentType());
        json = isJson ? (String) payload : Json.quote((String) payload);
        break;
      case "bytes":
        isJson = false;
        base64 = true;
        json = Json.quote(Base64.getEncoder().encodeToString((byte[]) payload));
        break;
      default:
        throw new IllegalStateException("payload kind " + e.payloadKind());
    }
    return new EncodedEvent(
        e.id(),
        e.aggregateType(),
        e.aggregateId(),
        e.type(),
        e.occurredAt().orElse(now),
        TraceContext.with(e.headers()),
        e.contentType(),
        json,
        isJson,
        base64);
  }

  private String serialize(OutboxEvent e, Object payload) {
    String json;
    try {
      json = serializer.toJson(payload);
    } catch (RuntimeException ex) {
      throw new OutboxException(
          "the payload of event type "
              + e.type()
              + " (id "
              + e.id()
              + ", payload class "
              + payload.getClass().getName()
              + ") cannot be serialized to JSON by "
              + serializer
              + ": "
              + ex.getMessage(),
          ex);
    }
    String error = json == null ? "the serializer returned null" : Json.syntaxError(json);
    if (error != null) {
      throw new OutboxException(
          "the payload of event type "
              + e.type()
              + " (id "
              + e.id()
              + ") was serialized by "
              + serializer
              + " to text the outbox cannot store as JSON: "
              + error);
    }
    return json;
  }

  private static String describe(Collection<OutboxEvent> events) {
    OutboxEvent first = events.iterator().next();
    return events.size() == 1 ? first.toString() : events.size() + " events (first " + first + ")";
  }

  private static String sqlMessage(SQLException e) {
    StringBuilder m = new StringBuilder();
    m.append(e.getMessage()).append(" [SQLState ").append(e.getSQLState()).append(']');
    if (e instanceof BatchUpdateException && e.getNextException() != null) {
      m.append("; ").append(e.getNextException().getMessage());
    }
    return m.toString();
  }

  /**
   * The {@code CREATE TABLE} statement for this writer's schema, table and column names (plain SQL,
   * every identifier quoted). For the default names the same text is the classpath resource {@link
   * #DDL_RESOURCE}.
   */
  public String ddl() {
    return OutboxDdl.createTable(schema, table, columns);
  }

  /**
   * What is missing or mismatched in the database for this writer: for TABLE the table, each column
   * and its type, NOT NULL columns the writer does not fill, INSERT (and DELETE) privilege; for
   * WAL_MESSAGE {@code wal_level=logical}. Empty when everything is in place.
   */
  public List<String> checkSchema(Connection connection) {
    try {
      return strategy == OutboxStrategy.TABLE
          ? SchemaChecker.checkTable(connection, schema, table, columns, deleteAfterInsert)
          : SchemaChecker.checkWal(connection);
    } catch (SQLException e) {
      throw new OutboxException("cannot check the outbox schema: " + sqlMessage(e), e);
    }
  }

  /**
   * Throws an {@link OutboxException} listing every problem {@link #checkSchema(Connection)} finds;
   * call it at start-up.
   */
  public void verifySchema(Connection connection) {
    List<String> problems = checkSchema(connection);
    if (!problems.isEmpty()) {
      throw new OutboxException(
          "the database is not ready for the outbox ("
              + strategy
              + "): "
              + String.join("; ", problems));
    }
  }

  /** The strategy. */
  public OutboxStrategy strategy() {
    return strategy;
  }

  /** Schema of the outbox table (TABLE). */
  public String schema() {
    return schema;
  }

  /** Name of the outbox table (TABLE). */
  public String table() {
    return table;
  }

  /** Configured name of {@code column}. */
  public String column(OutboxColumn column) {
    return columns.get(column);
  }

  /** Whether rows are deleted right after insert, in the same transaction (TABLE). */
  public boolean deleteAfterInsert() {
    return deleteAfterInsert;
  }

  /** Prefix of the WAL messages (WAL_MESSAGE). */
  public String walPrefix() {
    return walPrefix;
  }

  @Override
  public String toString() {
    return "Outbox["
        + strategy
        + (strategy == OutboxStrategy.TABLE
            ? " " + schema + "." + table + (deleteAfterInsert ? ", delete-after-insert" : "")
            : " prefix " + walPrefix)
        + "]";
  }

  /** Configures an {@link Outbox}; {@link #build()} validates every setting at once. */
  public static final class Builder {
    private OutboxStrategy strategy = DEFAULT_STRATEGY;
    private String schema = DEFAULT_SCHEMA;
    private String table = DEFAULT_TABLE;
    private final EnumMap<OutboxColumn, String> columns = new EnumMap<>(OutboxColumn.class);
    private boolean deleteAfterInsert;
    private String walPrefix = DEFAULT_WAL_PREFIX;
    private PayloadSerializer serializer;
    private Clock clock = Clock.systemUTC();

    private Builder() {
      for (OutboxColumn c : OutboxColumn.values()) {
        columns.put(c, c.defaultName());
      }
    }

    /** TABLE (default) or WAL_MESSAGE. */
    public Builder strategy(OutboxStrategy strategy) {
      this.strategy = strategy;
      return this;
    }

    /** Schema of the outbox table; default {@value Outbox#DEFAULT_SCHEMA}. */
    public Builder schema(String schema) {
      this.schema = schema;
      return this;
    }

    /** Name of the outbox table; default {@value Outbox#DEFAULT_TABLE}. */
    public Builder table(String table) {
      this.table = table;
      return this;
    }

    /** Renames one column; defaults are {@link OutboxColumn#defaultName()}. */
    public Builder column(OutboxColumn column, String name) {
      columns.put(Objects.requireNonNull(column, "column"), name);
      return this;
    }

    /** Renames several columns. */
    public Builder columns(Map<OutboxColumn, String> names) {
      names.forEach(this::column);
      return this;
    }

    /**
     * TABLE only: delete each row in the same transaction right after inserting it. The WAL still
     * carries the insert for the relay; the table never grows. Default false.
     */
    public Builder deleteAfterInsert(boolean deleteAfterInsert) {
      this.deleteAfterInsert = deleteAfterInsert;
      return this;
    }

    /** WAL_MESSAGE only: the message prefix; default {@value Outbox#DEFAULT_WAL_PREFIX}. */
    public Builder walPrefix(String walPrefix) {
      this.walPrefix = walPrefix;
      return this;
    }

    /**
     * Serializes object payloads; default {@link PayloadSerializer#jackson()} when Jackson is on
     * the classpath, otherwise {@link PayloadSerializer#none()}.
     */
    public Builder serializer(PayloadSerializer serializer) {
      this.serializer = serializer;
      return this;
    }

    /** Gives the occurred-at of events that have none; default the UTC system clock. */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @throws OutboxException naming every bad setting, its value and the fix
     */
    public Outbox build() {
      List<String> problems = new ArrayList<>();
      if (strategy == null) {
        problems.add("strategy: must be TABLE or WAL_MESSAGE, was null");
      }
      if (clock == null) {
        problems.add("clock: must not be null (default Clock.systemUTC())");
      }
      identifier(problems, "schema", schema);
      identifier(problems, "table", table);
      if (table != null && table.contains(".") && Identifiers.problem(table) == null) {
        // a legal name, but almost always "schema.table" given where the table alone belongs
        problems.add(
            "table: "
                + Json.quote(table)
                + " contains a dot; set the schema with schema(..) and the table name alone with"
                + " table(..)");
      }
      for (Map.Entry<OutboxColumn, String> e : columns.entrySet()) {
        identifier(problems, "column(" + e.getKey() + ")", e.getValue());
      }
      long distinct = columns.values().stream().filter(Objects::nonNull).distinct().count();
      if (distinct < columns.size()) {
        problems.add("columns: two columns have the same name: " + columns);
      }
      if (walPrefix == null || walPrefix.isEmpty() || walPrefix.indexOf('\0') >= 0) {
        problems.add(
            "walPrefix: must be a non-empty string without NUL characters, was "
                + (walPrefix == null ? "null" : Json.quote(walPrefix))
                + " (default "
                + DEFAULT_WAL_PREFIX
                + ")");
      }
      if (deleteAfterInsert && strategy == OutboxStrategy.WAL_MESSAGE) {
        problems.add(
            "deleteAfterInsert: only applies to strategy TABLE; WAL_MESSAGE writes no rows");
      }
      if (!problems.isEmpty()) {
        throw new OutboxException("invalid outbox configuration: " + String.join("; ", problems));
      }
      return new Outbox(this);
    }

    private static void identifier(List<String> problems, String setting, String value) {
      String problem = Identifiers.problem(value);
      if (problem != null) {
        problems.add(
            setting
                + ": "
                + (value == null ? "null" : Json.quote(value))
                + " is not a valid identifier: "
                + problem);
      }
    }
  }
}
