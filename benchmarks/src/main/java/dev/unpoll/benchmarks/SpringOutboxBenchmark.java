package dev.unpoll.benchmarks;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.spring.SpringOutbox;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
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
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The business transaction of {@link OrderTransactions} (same server settings, same pool of one
 * connection, same order row and event) run the Spring way: a {@code TransactionTemplate} on a
 * {@code DataSourceTransactionManager}, the order inserted with {@code JdbcTemplate}, the event
 * published with {@link SpringOutbox} writing at once ({@code PUBLISH}) or with the COMMIT ({@code
 * DEFER_TO_COMMIT}). One arm per JMH fork, like {@link OutboxWriteBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 10)
@Measurement(iterations = 5, time = 10)
public class SpringOutboxBenchmark {

  /** What the Spring transaction does besides inserting its order row. */
  public enum Arm {
    /** Nothing: the baseline. */
    NONE,
    /** {@code SpringOutbox.of(...).publish}: the event's INSERT is a round trip of its own. */
    PUBLISH,
    /** {@code SpringOutbox} with {@code deferToCommit(true)}: the INSERT rides with the COMMIT. */
    DEFER_TO_COMMIT
  }

  @Param({"NONE", "PUBLISH", "DEFER_TO_COMMIT"})
  public Arm arm;

  private OrderTransactions transactions;
  private TransactionTemplate tx;
  private JdbcTemplate jdbc;
  private SpringOutbox outbox;

  @Setup(Level.Trial)
  public void start() throws SQLException {
    transactions = new OrderTransactions();
    tx = new TransactionTemplate(new DataSourceTransactionManager(transactions.dataSource()));
    jdbc = new JdbcTemplate(transactions.dataSource());
    outbox =
        SpringOutbox.builder()
            .outbox(Outbox.builder().build())
            .dataSource(transactions.dataSource())
            .deferToCommit(arm == Arm.DEFER_TO_COMMIT)
            .build();
  }

  @TearDown(Level.Trial)
  public void stop() throws SQLException {
    long started = transactions.startedOrders();
    long committed = transactions.committedOrders();
    transactions.close();
    if (committed != started) {
      throw new IllegalStateException(
          started + " transactions started, " + committed + " committed");
    }
  }

  /** One business transaction: insert an order, publish its event unless NONE, commit. */
  @Benchmark
  public long businessTransaction() {
    long id = transactions.nextOrderId();
    tx.executeWithoutResult(
        status -> {
          jdbc.update(
              "INSERT INTO orders (id, customer, amount) VALUES (?, ?, ?)",
              id,
              "customer-" + (id % 1000),
              BigDecimal.valueOf(id % 10_000, 2));
          if (arm != Arm.NONE) {
            outbox.publish(OrderTransactions.event(id));
          }
        });
    return id;
  }
}
