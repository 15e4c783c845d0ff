package dev.unpoll.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxStrategy;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestPostgres;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * The business transaction the outbox benchmarks measure: take a pooled connection (HikariCP),
 * insert one row into {@code orders}, do what the {@link Variant} says, commit. PostgreSQL runs
 * with {@code fsync=on}, {@code full_page_writes=on} and {@code synchronous_commit=on}, so every
 * commit waits for a real WAL flush.
 */
public final class OrderTransactions implements AutoCloseable {

  /** What the business transaction does besides inserting its order row. */
  public enum Variant {
    /** Nothing: the baseline. */
    NONE,
    /** {@code publish} (strategy TABLE), then {@code commit()}. */
    TABLE,
    /** {@code publish} (TABLE, delete-after-insert), then {@code commit()}. */
    TABLE_DELETE,
    /** {@code publish} (strategy WAL_MESSAGE), then {@code commit()}. */
    WAL_MESSAGE,
    /** {@code publishAndCommit} (TABLE): the event's INSERT travels with the COMMIT. */
    TABLE_COMMIT,
    /** {@code publishAndCommit} (TABLE, delete-after-insert). */
    TABLE_DELETE_COMMIT,
    /** {@code publishAndCommit} (WAL_MESSAGE). */
    WAL_MESSAGE_COMMIT,
    /**
     * Reference, not an outbox: {@code SELECT 1}, then {@code commit()}. What any separate
     * statement costs, however little it does: the floor for {@code publish}.
     */
    ROUND_TRIP,
    /**
     * Reference, not an outbox: {@code SELECT 1;COMMIT} in place of {@code commit()}. What any
     * statement riding with the COMMIT costs: the floor for {@code publishAndCommit}.
     */
    PIPELINED_NOOP,
    /**
     * O1's baseline: the legacy integration row the event replaces ({@code order_integration},
     * shaped like the samples' {@code shop.order_integration}, the event's payload as {@code
     * jsonb}), inserted by a separate statement, then {@code commit()}.
     */
    LEGACY_ROW,
    /**
     * Peer: gruelbox transaction-outbox ({@link GruelboxPeer}), its JDBC persistor scheduling a
     * no-op call in a transaction of its own transaction manager over the same pool.
     */
    PEER_GRUELBOX,
    /**
     * Peer: Spring Modulith's JDBC event publication registry ({@link ModulithPeer}), the event
     * published in a Spring transaction with a transactional listener registered.
     */
    PEER_MODULITH,
    /**
     * Peer: namastack-outbox's JDBC store ({@link NamastackPeer}), a record scheduled in a Spring
     * transaction with a handler registered.
     */
    PEER_NAMASTACK;
  }

  /**
   * The legacy integration table, as the samples' {@code shop.order_integration} (no poller index).
   */
  static final String LEGACY_DDL =
      "CREATE TABLE order_integration (id bigserial PRIMARY KEY, order_id bigint NOT NULL,"
          + " event_type text NOT NULL, payload jsonb NOT NULL, status text NOT NULL DEFAULT 'NEW'"
          + " CHECK (status IN ('NEW', 'PROCESSING', 'DONE', 'FAILED')),"
          + " created_at timestamptz NOT NULL DEFAULT clock_timestamp())";

  /** The business transaction's own statement, shared with the peers. */
  static final String INSERT_ORDER = "INSERT INTO orders (id, customer, amount) VALUES (?, ?, ?)";

  private final EmbeddedPostgresServer server;
  private final HikariDataSource dataSource;
  private final Outbox table = Outbox.builder().build();
  private final Outbox tableDelete = Outbox.builder().deleteAfterInsert(true).build();
  private final Outbox wal = Outbox.builder().strategy(OutboxStrategy.WAL_MESSAGE).build();
  private final AtomicLong orderIds = new AtomicLong();
  private final Path backendSchedstat;
  private final GruelboxPeer gruelbox;
  private final ModulithPeer modulith;
  private final NamastackPeer namastack;

  OrderTransactions() throws SQLException {
    server =
        EmbeddedPostgresServer.builder()
            .setting("fsync", "on")
            .setting("full_page_writes", "on")
            .setting("synchronous_commit", "on")
            .start();
    TestPostgres pg = server.postgres();
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(pg.jdbcUrl());
    config.setUsername(pg.user());
    config.setPassword(pg.password());
    // One connection, so one server backend serves every transaction and its CPU time can be read.
    config.setMaximumPoolSize(1);
    config.setPoolName("outbox-benchmark");
    dataSource = new HikariDataSource(config);
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL,"
              + " amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
      s.execute(table.ddl());
      s.execute(LEGACY_DDL);
      try (ResultSet rs =
          s.executeQuery(
              "SELECT current_setting('fsync'), current_setting('synchronous_commit')")) {
        rs.next();
        if (!rs.getString(1).equals("on") || !rs.getString(2).equals("on")) {
          throw new IllegalStateException("the benchmark needs fsync=on and synchronous_commit=on");
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        backendSchedstat = Path.of("/proc", Integer.toString(rs.getInt(1)), "schedstat");
      }
    }
    // Each peer creates its own schema now, not inside a measured transaction.
    try {
      gruelbox = new GruelboxPeer(dataSource);
      modulith = new ModulithPeer(dataSource);
      namastack = new NamastackPeer(dataSource);
    } catch (SQLException | RuntimeException e) {
      dataSource.close();
      server.close();
      throw e;
    }
  }

  /**
   * CPU time the server backend of the pool's one connection has used so far, in nanoseconds (Linux
   * {@code /proc/<pid>/schedstat}); -1 where that cannot be read.
   */
  long backendCpuNanos() {
    try {
      return Long.parseLong(Files.readString(backendSchedstat).trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The pool of one connection, for benchmarks that run the transaction another way. */
  DataSource dataSource() {
    return dataSource;
  }

  /** The next order id. */
  long nextOrderId() {
    return orderIds.incrementAndGet();
  }

  /** Runs one business transaction; returns the order id. */
  long run(Variant variant) throws SQLException {
    long id = orderIds.incrementAndGet();
    switch (variant) {
      case PEER_GRUELBOX -> {
        gruelbox.run(id);
        return id;
      }
      case PEER_MODULITH -> {
        modulith.run(id);
        return id;
      }
      case PEER_NAMASTACK -> {
        namastack.run(id);
        return id;
      }
      default -> {}
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      insertOrder(c, id);
      switch (variant) {
        case NONE -> c.commit();
        case TABLE -> publishThenCommit(c, table, id);
        case TABLE_DELETE -> publishThenCommit(c, tableDelete, id);
        case WAL_MESSAGE -> publishThenCommit(c, wal, id);
        case TABLE_COMMIT -> table.publishAndCommit(c, event(id));
        case TABLE_DELETE_COMMIT -> tableDelete.publishAndCommit(c, event(id));
        case WAL_MESSAGE_COMMIT -> wal.publishAndCommit(c, event(id));
        case ROUND_TRIP -> {
          try (PreparedStatement ps = c.prepareStatement("SELECT 1")) {
            ps.execute();
          }
          c.commit();
        }
        case PIPELINED_NOOP -> {
          try (PreparedStatement ps = c.prepareStatement("SELECT 1;\nCOMMIT")) {
            ps.execute();
          }
          c.commit(); // pgjdbc sends nothing: it saw the transaction end
        }
        case LEGACY_ROW -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO order_integration (order_id, event_type, payload)"
                      + " VALUES (?, ?, ?::jsonb)")) {
            ps.setLong(1, id);
            ps.setString(2, "OrderCreated");
            ps.setString(3, payload(id));
            ps.executeUpdate();
          }
          c.commit();
        }
        case PEER_GRUELBOX, PEER_MODULITH, PEER_NAMASTACK ->
            throw new IllegalStateException(variant.name());
      }
      c.setAutoCommit(true);
    }
    return id;
  }

  /** The business transaction's order row, the same for every variant and peer. */
  static void insertOrder(Connection c, long id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(INSERT_ORDER)) {
      bindOrder(ps, id);
      ps.executeUpdate();
    }
  }

  /** Binds {@link #INSERT_ORDER}'s parameters for order {@code id}. */
  static void bindOrder(PreparedStatement ps, long id) throws SQLException {
    ps.setLong(1, id);
    ps.setString(2, "customer-" + (id % 1000));
    ps.setBigDecimal(3, BigDecimal.valueOf(id % 10_000, 2));
  }

  /** The event's payload; the legacy row and the peers carry the same bytes. */
  static String payload(long id) {
    return "{\"orderId\":" + id + ",\"customer\":\"customer-" + (id % 1000) + "\"}";
  }

  private static void publishThenCommit(Connection c, Outbox outbox, long id) throws SQLException {
    outbox.publish(c, event(id));
    c.commit();
  }

  /** Built inside the measured operation, so the UUIDv7 and validation are included. */
  static OutboxEvent event(long id) {
    return OutboxEvent.builder()
        .aggregate("order", Long.toString(id))
        .type("OrderCreated")
        .payload(payload(id), "application/json")
        .build();
  }

  /** Rows in {@code orders}: every measured transaction must have committed its order. */
  long committedOrders() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  long startedOrders() {
    return orderIds.get();
  }

  /** Rows in a table (the smoke test's check that every variant wrote its row). */
  long rows(String table) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Override
  public void close() {
    namastack.close();
    modulith.close();
    dataSource.close();
    server.close();
  }
}
