package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.OrderTransactions.Variant;
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

/**
 * The business transaction of {@link OrderTransactions}, one {@link Variant} per JMH fork, each
 * fork with its own fresh server: the plain JMH way, for looking at one variant at a time. Ratios
 * between variants measured this way carry the drift between forks; {@link
 * OutboxInterleavedBenchmark} and {@link OutboxRatios} measure them interleaved.
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

  @Param({
    "NONE",
    "TABLE",
    "TABLE_DELETE",
    "WAL_MESSAGE",
    "TABLE_COMMIT",
    "TABLE_DELETE_COMMIT",
    "WAL_MESSAGE_COMMIT"
  })
  public Variant variant;

  private OrderTransactions transactions;

  @Setup(Level.Trial)
  public void start() throws SQLException {
    transactions = new OrderTransactions();
  }

  @TearDown(Level.Trial)
  public void stop() {
    transactions.close();
  }

  /** One business transaction: insert an order, then what {@link #variant} says, committed. */
  @Benchmark
  public long businessTransaction() throws SQLException {
    return transactions.run(variant);
  }
}
