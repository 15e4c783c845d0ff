package dev.unpoll.consumer;

import dev.unpoll.consumer.internal.Sql;
import dev.unpoll.consumer.internal.Validation;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDBC idempotency store: {@code unpoll_processed(consumer_group, idempotency_key,
 * processed_at)} with its primary key on the first two columns, and the shadow ledger {@code
 * unpoll_shadow_ledger(consumer_group, idempotency_key, received_at, event_time)}. Table names are
 * a contract with the migration CLI; only the schema is configurable (default: the connection's
 * current schema). The DDL ships as the resource {@value #DDL_RESOURCE}.
 *
 * <p>Every write happens on the caller's connection, inside the caller's transaction: that is what
 * makes the handler's effect and the key commit together.
 */
public final class IdempotencyStore {
  /** Name of the processed-keys table. */
  public static final String PROCESSED_TABLE = "unpoll_processed";

  /** Name of the shadow ledger table. */
  public static final String SHADOW_LEDGER_TABLE = "unpoll_shadow_ledger";

  /** Classpath resource with the DDL for the connection's current schema. */
  public static final String DDL_RESOURCE = "dev/unpoll/consumer/unpoll-consumer-schema.sql";

  /** Default retention of processed keys for {@link #purge(DataSource)}. */
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);

  /** Default number of rows one purge transaction deletes. */
  public static final int DEFAULT_PURGE_BATCH_SIZE = 5_000;

  private static final Logger LOG = LoggerFactory.getLogger(IdempotencyStore.class);

  private final String schema;
  private final Duration retention;
  private final int purgeBatchSize;
  private final String processed;
  private final String ledger;

  private IdempotencyStore(Builder b) {
    this.schema = b.schema;
    this.retention = b.retention;
    this.purgeBatchSize = b.purgeBatchSize;
    this.processed = Sql.qualified(schema, PROCESSED_TABLE);
    this.ledger = Sql.qualified(schema, SHADOW_LEDGER_TABLE);
  }

  /** A builder; every setting has a default. */
  public static Builder builder() {
    return new Builder();
  }

  /** A store in the connection's current schema with default retention. */
  public static IdempotencyStore defaults() {
    return builder().build();
  }

  /** The configured schema, or null for the connection's current schema. */
  public String schema() {
    return schema;
  }

  /** The retention {@link #purge(DataSource)} uses. */
  public Duration retention() {
    return retention;
  }

  /** The DDL of both tables for this store's schema, statements separated by {@code ;\n}. */
  public String ddl() {
    return ddlFor(schema);
  }

  static String ddlFor(String schema) {
    String p = Sql.qualified(schema, PROCESSED_TABLE);
    String l = Sql.qualified(schema, SHADOW_LEDGER_TABLE);
    return "CREATE TABLE IF NOT EXISTS "
        + p
        + " (\n"
        + "  consumer_group text NOT NULL,\n"
        + "  idempotency_key text NOT NULL,\n"
        + "  processed_at timestamptz NOT NULL DEFAULT now(),\n"
        + "  PRIMARY KEY (consumer_group, idempotency_key)\n"
        + ");\n"
        + "CREATE INDEX IF NOT EXISTS unpoll_processed_processed_at_idx ON "
        + p
        + " USING brin (processed_at);\n"
        + "CREATE TABLE IF NOT EXISTS "
        + l
        + " (\n"
        + "  consumer_group text NOT NULL,\n"
        + "  idempotency_key text NOT NULL,\n"
        + "  received_at timestamptz NOT NULL DEFAULT now(),\n"
        + "  event_time timestamptz,\n"
        + "  PRIMARY KEY (consumer_group, idempotency_key)\n"
        + ");\n";
  }

  /** The shipped DDL resource's text. */
  public static String shippedDdl() {
    try (InputStream in =
        IdempotencyStore.class.getClassLoader().getResourceAsStream(DDL_RESOURCE)) {
      if (in == null) {
        throw new ConsumerException("resource " + DDL_RESOURCE + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConsumerException("cannot read " + DDL_RESOURCE, e);
    }
  }

  /** Creates both tables (and the schema, if one is configured) when absent. Idempotent. */
  public void createTablesIfAbsent(DataSource dataSource) {
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        if (schema != null) {
          s.execute("CREATE SCHEMA IF NOT EXISTS " + Sql.quote(schema));
        }
        for (String stmt : ddl().split(";\n")) {
          if (!stmt.isBlank()) {
            s.execute(stmt);
          }
        }
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw new ConsumerException(
          "cannot create "
              + processed
              + " / "
              + ledger
              + " ("
              + e.getMessage()
              + "): create them as the schema's owner (IdempotencyStore.ddl() gives the"
              + " statements), or grant the consumer's user CREATE on the schema",
          e);
    }
  }

  /**
   * Records {@code key} for {@code group} if absent, on the caller's connection and transaction.
   *
   * @return true the first time, false for a duplicate
   */
  public boolean tryRecord(Connection connection, String group, String key) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement(
            "INSERT INTO "
                + processed
                + " (consumer_group, idempotency_key) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
      ps.setString(1, group);
      ps.setString(2, key);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Records several keys at once with one multi-row insert, on the caller's connection.
   *
   * @return the keys that were absent (first time); the others are duplicates
   */
  public Set<String> tryRecordAll(Connection connection, String group, Collection<String> keys)
      throws SQLException {
    Set<String> inserted = new LinkedHashSet<>();
    if (keys.isEmpty()) {
      return inserted;
    }
    List<String> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
    try (PreparedStatement ps =
        connection.prepareStatement(
            "INSERT INTO "
                + processed
                + " (consumer_group, idempotency_key)"
                + " SELECT ?, k FROM unnest(?::text[]) AS k"
                + " ON CONFLICT DO NOTHING RETURNING idempotency_key")) {
      ps.setString(1, group);
      ps.setArray(2, connection.createArrayOf("text", distinct.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inserted.add(rs.getString(1));
        }
      }
    }
    return inserted;
  }

  /** SQLSTATE of a unique violation: {@link #recordAllNew} met a key that is recorded already. */
  public static final String UNIQUE_VIOLATION = "23505";

  /**
   * Records several distinct keys that are expected to be new, with one plain multi-row insert, on
   * the caller's connection: the fast path of a batch. It skips the speculative insertion of {@code
   * ON CONFLICT} (about half the cost of a 500-key insert on PostgreSQL 17), so a key that is
   * recorded already fails the statement with a unique violation (SQLSTATE {@value
   * #UNIQUE_VIOLATION}, also in the server's log) and aborts the caller's transaction: roll it back
   * and use {@link #tryRecordAll} instead. A key that a concurrent transaction is recording makes
   * the insert wait for it, then fail if that transaction commits.
   *
   * @throws SQLException with SQLSTATE {@value #UNIQUE_VIOLATION} if any key is recorded already
   */
  public void recordAllNew(Connection connection, String group, Set<String> keys)
      throws SQLException {
    if (keys.isEmpty()) {
      return;
    }
    try (PreparedStatement ps =
        connection.prepareStatement(
            "INSERT INTO "
                + processed
                + " (consumer_group, idempotency_key) SELECT ?, k FROM unnest(?::text[]) AS k")) {
      ps.setString(1, group);
      ps.setArray(2, connection.createArrayOf("text", keys.toArray()));
      ps.executeUpdate();
    }
  }

  /** Removes a key recorded earlier in the same transaction (used when a claim is lost). */
  public void forget(Connection connection, String group, String key) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement(
            "DELETE FROM " + processed + " WHERE consumer_group = ? AND idempotency_key = ?")) {
      ps.setString(1, group);
      ps.setString(2, key);
      ps.executeUpdate();
    }
  }

  /** True if {@code key} is recorded for {@code group}. */
  public boolean isRecorded(Connection connection, String group, String key) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT 1 FROM " + processed + " WHERE consumer_group = ? AND idempotency_key = ?")) {
      ps.setString(1, group);
      ps.setString(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /**
   * Records receipt of an event in the shadow ledger; a second receipt of the same key keeps the
   * first row.
   *
   * @return true the first time, false for a duplicate
   */
  public boolean recordShadow(Connection connection, String group, String key, Instant eventTime)
      throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement(
            "INSERT INTO "
                + ledger
                + " (consumer_group, idempotency_key, event_time) VALUES (?, ?, ?)"
                + " ON CONFLICT DO NOTHING")) {
      ps.setString(1, group);
      ps.setString(2, key);
      ps.setTimestamp(3, eventTime == null ? null : Timestamp.from(eventTime));
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Records receipt of several events in the shadow ledger with one multi-row insert, on the
   * caller's connection; a key received before keeps its first row.
   *
   * @param keys distinct keys, in order
   * @param eventTimes each key's event time, or null, at the same position
   */
  public void recordShadowAll(
      Connection connection, String group, List<String> keys, List<Instant> eventTimes)
      throws SQLException {
    if (keys.size() != eventTimes.size()) {
      throw new IllegalArgumentException(
          "recordShadowAll: " + keys.size() + " keys but " + eventTimes.size() + " event times");
    }
    if (keys.isEmpty()) {
      return;
    }
    // microseconds since the epoch, exact for every instant PostgreSQL can store (text would
    // need a format PostgreSQL reads for years past 9999 and before 1)
    Long[] micros = new Long[eventTimes.size()];
    for (int i = 0; i < micros.length; i++) {
      Instant t = eventTimes.get(i);
      micros[i] =
          t == null
              ? null
              : Math.addExact(
                  Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
    }
    try (PreparedStatement ps =
        connection.prepareStatement(
            "INSERT INTO "
                + ledger
                + " (consumer_group, idempotency_key, event_time)"
                + " SELECT ?, k, to_timestamp(t / 1000000) + (t % 1000000) * interval '1 microsecond'"
                + " FROM unnest(?::text[], ?::int8[]) AS u(k, t) ON CONFLICT DO NOTHING")) {
      ps.setString(1, group);
      ps.setArray(2, connection.createArrayOf("text", keys.toArray()));
      ps.setArray(3, connection.createArrayOf("int8", micros));
      ps.executeUpdate();
    }
  }

  /** Purges keys older than the configured retention. See {@link #purge(DataSource, Duration)}. */
  public long purge(DataSource dataSource) {
    return purge(dataSource, retention);
  }

  /**
   * Deletes processed keys (of every consumer group) older than {@code olderThan}, in transactions
   * of at most the configured batch size, so a large purge never holds long locks.
   *
   * @return the number of keys deleted
   */
  public long purge(DataSource dataSource, Duration olderThan) {
    Objects.requireNonNull(olderThan, "olderThan");
    String sql =
        "DELETE FROM "
            + processed
            + " WHERE ctid IN (SELECT ctid FROM "
            + processed
            + " WHERE processed_at < now() - ?::interval LIMIT ?)";
    long total = 0;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        while (true) {
          ps.setString(1, olderThan.toMillis() + " milliseconds");
          ps.setInt(2, purgeBatchSize);
          int n = ps.executeUpdate();
          total += n;
          if (n < purgeBatchSize) {
            break;
          }
        }
      }
    } catch (SQLException e) {
      throw new ConsumerException("purge of " + processed + " failed after " + total + " rows", e);
    }
    LOG.info("purged {} keys older than {} from {}", total, olderThan, processed);
    return total;
  }

  /** Builds an {@link IdempotencyStore}. */
  public static final class Builder {
    private String schema;
    private Duration retention = DEFAULT_RETENTION;
    private int purgeBatchSize = DEFAULT_PURGE_BATCH_SIZE;

    private Builder() {}

    /** Schema of both tables; default (null) is the connection's current schema. */
    public Builder schema(String schema) {
      this.schema = schema;
      return this;
    }

    /** How long processed keys are kept; default {@link #DEFAULT_RETENTION}. */
    public Builder retention(Duration retention) {
      this.retention = retention;
      return this;
    }

    /** Rows per purge transaction; default {@link #DEFAULT_PURGE_BATCH_SIZE}. */
    public Builder purgeBatchSize(int purgeBatchSize) {
      this.purgeBatchSize = purgeBatchSize;
      return this;
    }

    /** Validates every setting and reports all problems at once. */
    public IdempotencyStore build() {
      List<String> problems = new ArrayList<>();
      if (schema != null && !Sql.isValidIdentifier(schema)) {
        problems.add(
            "schema: '"
                + schema
                + "' is not a valid identifier ("
                + Sql.identifierRule()
                + "); omit it to use the connection's current schema");
      }
      if (retention == null || retention.isNegative() || retention.isZero()) {
        problems.add("retention: " + retention + " must be a positive duration, e.g. P7D");
      }
      if (purgeBatchSize < 1) {
        problems.add("purgeBatchSize: " + purgeBatchSize + " must be at least 1, e.g. 5000");
      }
      Validation.throwIfAny("IdempotencyStore", problems);
      return new IdempotencyStore(this);
    }
  }
}
