package dev.unpoll.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxStrategy;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of the outbox on a business transaction: one transaction inserts one order row and
 * commits, alone ({@code NONE}, the baseline) or with one outbox event ({@code TABLE}, {@code
 * TABLE_DELETE} = TABLE with delete-after-insert, {@code WAL_MESSAGE}). PostgreSQL runs with {@code
 * fsync=on}, {@code full_page_writes=on} and {@code synchronous_commit=on}, so every commit waits
 * for a real WAL flush, as in production. Each mode gets its own fork and its own fresh server, in
 * the same run, so the ratio mode / NONE compares like with like. {@link OutboxRatios} runs this
 * benchmark and prints the ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 10)
@Measurement(iterations = 5, time = 10)
public class OutboxWriteBenchmark {

  /** What the business transaction writes besides the order row. */
  public enum Variant {
    NONE,
    TABLE,
    TABLE_DELETE,
    WAL_MESSAGE
  }

  @Param({"NONE", "TABLE", "TABLE_DELETE", "WAL_MESSAGE"})
  public Variant variant;

  private EmbeddedPostgresServer server;
  private HikariDataSource dataSource;
  private Outbox outbox;
  private final AtomicLong orderIds = new AtomicLong();

  @Setup(Level.Trial)
  public void start() throws SQLException {
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
    config.setMaximumPoolSize(8);
    config.setPoolName("outbox-benchmark");
    dataSource = new HikariDataSource(config);
    outbox =
        switch (variant) {
          case NONE -> null;
          case TABLE -> Outbox.builder().build();
          case TABLE_DELETE -> Outbox.builder().deleteAfterInsert(true).build();
          case WAL_MESSAGE -> Outbox.builder().strategy(OutboxStrategy.WAL_MESSAGE).build();
        };
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL,"
              + " amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
      s.execute(Outbox.builder().build().ddl());
      s.execute("SHOW synchronous_commit");
    }
  }

  @TearDown(Level.Trial)
  public void stop() {
    if (dataSource != null) {
      dataSource.close();
    }
    if (server != null) {
      server.close();
    }
  }

  /** One business transaction: insert an order, publish its event (unless NONE), commit. */
  @Benchmark
  public long businessTransaction() throws SQLException {
    long id = orderIds.incrementAndGet();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO orders (id, customer, amount) VALUES (?, ?, ?)")) {
        ps.setLong(1, id);
        ps.setString(2, "customer-" + (id % 1000));
        ps.setBigDecimal(3, java.math.BigDecimal.valueOf(id % 10_000, 2));
        ps.executeUpdate();
      }
      if (outbox != null) {
        outbox.publish(
            c,
            OutboxEvent.builder()
                .aggregate("order", Long.toString(id))
                .type("OrderCreated")
                .payload(
                    "{\"orderId\":" + id + ",\"customer\":\"customer-" + (id % 1000) + "\"}",
                    "application/json")
                .build());
      }
      c.commit();
      c.setAutoCommit(true);
    }
    return id;
  }
}
