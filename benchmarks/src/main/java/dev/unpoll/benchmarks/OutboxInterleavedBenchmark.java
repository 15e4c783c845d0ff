package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.OrderTransactions.Variant;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Every {@link Variant} of the business transaction in one fork, against one server, interleaved in
 * short time slices ({@code sliceMillis}, 100 ms by default) in a freshly shuffled order each
 * cycle. Drift of the disk's commit latency (which moved a separately forked baseline by 2x between
 * forks on the build machine) then hits every variant alike, and the ratio of two variants compares
 * transactions run a few hundred milliseconds apart.
 *
 * <p>JMH's primary score is the throughput of the mix and means little. The per-variant figures are
 * the auxiliary counters {@code <variant>Ns} (nanoseconds spent in that variant's transactions) and
 * {@code <variant>Tx} (how many ran), per iteration; {@link OutboxRatios} turns them into
 * throughput ratios to {@code NONE}. Each transaction is timed with {@link System#nanoTime()},
 * whose cost is negligible next to a transaction of about half a millisecond.
 *
 * <p>Where the time goes: {@code <variant>ClientCpuNs} is the CPU time of the benchmark thread
 * (application, HikariCP, pgjdbc) and {@code <variant>ServerCpuNs} that of the PostgreSQL backend
 * serving the pool's one connection ({@code /proc/<pid>/schedstat}, Linux; -1 elsewhere), both read
 * at slice boundaries and charged to the slice's variant. Server background processes (WAL writer,
 * checkpointer) are not counted.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
    value = 5,
    jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 1, time = 10)
@Measurement(iterations = 5, time = 10)
public class OutboxInterleavedBenchmark {

  @Param({"100"})
  public int sliceMillis;

  /**
   * Transactions of each variant run back to back before JMH's warm-up, so that every variant's
   * code, the peer libraries' included, is compiled before it is measured. Interleaved, a variant
   * gets a thirteenth of the warm-up; our variants share most of their code, a peer shares none.
   */
  @Param({"3000"})
  public int warmupTransactions;

  private OrderTransactions transactions;
  private final Random random = new Random(20261121);
  private final List<Variant> cycle = new ArrayList<>(List.of(Variant.values()));
  private int position = -1;
  private long sliceEnd;
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private long sliceClientCpu;
  private long sliceServerCpu;

  @Setup(Level.Trial)
  public void start() throws SQLException {
    transactions = new OrderTransactions();
    for (Variant v : Variant.values()) {
      for (int i = 0; i < warmupTransactions; i++) {
        transactions.run(v);
      }
    }
    sliceEnd = System.nanoTime();
  }

  @TearDown(Level.Trial)
  public void stop() throws SQLException {
    try {
      long committed = transactions.committedOrders();
      if (committed != transactions.startedOrders()) {
        throw new IllegalStateException(
            transactions.startedOrders() + " transactions ran but " + committed + " committed");
      }
    } finally {
      transactions.close();
    }
  }

  /** One business transaction of the variant whose slice it is. */
  @Benchmark
  public long transaction(Counters counters) throws SQLException {
    long now = System.nanoTime();
    if (now - sliceEnd >= 0) {
      long clientCpu = threads.getCurrentThreadCpuTime();
      long serverCpu = transactions.backendCpuNanos();
      if (position >= 0) {
        counters.cpu(cycle.get(position), clientCpu - sliceClientCpu, serverCpu - sliceServerCpu);
      }
      sliceClientCpu = clientCpu;
      sliceServerCpu = serverCpu;
      position++;
      if (position == cycle.size()) {
        Collections.shuffle(cycle, random);
        position = 0;
      }
      sliceEnd = now + TimeUnit.MILLISECONDS.toNanos(sliceMillis);
    }
    Variant variant = cycle.get(position);
    long start = System.nanoTime();
    long id = transactions.run(variant);
    counters.record(variant, System.nanoTime() - start);
    return id;
  }

  /** Per-variant time and count, per iteration (JMH sums EVENTS counters, it does not divide). */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Counters {
    public long noneNs;
    public long noneTx;
    public long noneClientCpuNs;
    public long noneServerCpuNs;

    public long tableNs;
    public long tableTx;
    public long tableClientCpuNs;
    public long tableServerCpuNs;

    public long tableDeleteNs;
    public long tableDeleteTx;
    public long tableDeleteClientCpuNs;
    public long tableDeleteServerCpuNs;

    public long walMessageNs;
    public long walMessageTx;
    public long walMessageClientCpuNs;
    public long walMessageServerCpuNs;

    public long tableCommitNs;
    public long tableCommitTx;
    public long tableCommitClientCpuNs;
    public long tableCommitServerCpuNs;

    public long tableDeleteCommitNs;
    public long tableDeleteCommitTx;
    public long tableDeleteCommitClientCpuNs;
    public long tableDeleteCommitServerCpuNs;

    public long walMessageCommitNs;
    public long walMessageCommitTx;
    public long walMessageCommitClientCpuNs;
    public long walMessageCommitServerCpuNs;

    public long roundTripNs;
    public long roundTripTx;
    public long roundTripClientCpuNs;
    public long roundTripServerCpuNs;

    public long pipelinedNoopNs;
    public long pipelinedNoopTx;
    public long pipelinedNoopClientCpuNs;
    public long pipelinedNoopServerCpuNs;

    public long legacyRowNs;
    public long legacyRowTx;
    public long legacyRowClientCpuNs;
    public long legacyRowServerCpuNs;

    public long peerGruelboxNs;
    public long peerGruelboxTx;
    public long peerGruelboxClientCpuNs;
    public long peerGruelboxServerCpuNs;

    public long peerModulithNs;
    public long peerModulithTx;
    public long peerModulithClientCpuNs;
    public long peerModulithServerCpuNs;

    public long peerNamastackNs;
    public long peerNamastackTx;
    public long peerNamastackClientCpuNs;
    public long peerNamastackServerCpuNs;

    @Setup(Level.Iteration)
    public void reset() {
      noneNs = 0;
      noneTx = 0;
      noneClientCpuNs = 0;
      noneServerCpuNs = 0;
      tableNs = 0;
      tableTx = 0;
      tableClientCpuNs = 0;
      tableServerCpuNs = 0;
      tableDeleteNs = 0;
      tableDeleteTx = 0;
      tableDeleteClientCpuNs = 0;
      tableDeleteServerCpuNs = 0;
      walMessageNs = 0;
      walMessageTx = 0;
      walMessageClientCpuNs = 0;
      walMessageServerCpuNs = 0;
      tableCommitNs = 0;
      tableCommitTx = 0;
      tableCommitClientCpuNs = 0;
      tableCommitServerCpuNs = 0;
      tableDeleteCommitNs = 0;
      tableDeleteCommitTx = 0;
      tableDeleteCommitClientCpuNs = 0;
      tableDeleteCommitServerCpuNs = 0;
      walMessageCommitNs = 0;
      walMessageCommitTx = 0;
      walMessageCommitClientCpuNs = 0;
      walMessageCommitServerCpuNs = 0;
      roundTripNs = 0;
      roundTripTx = 0;
      roundTripClientCpuNs = 0;
      roundTripServerCpuNs = 0;
      pipelinedNoopNs = 0;
      pipelinedNoopTx = 0;
      pipelinedNoopClientCpuNs = 0;
      pipelinedNoopServerCpuNs = 0;
      legacyRowNs = 0;
      legacyRowTx = 0;
      legacyRowClientCpuNs = 0;
      legacyRowServerCpuNs = 0;
      peerGruelboxNs = 0;
      peerGruelboxTx = 0;
      peerGruelboxClientCpuNs = 0;
      peerGruelboxServerCpuNs = 0;
      peerModulithNs = 0;
      peerModulithTx = 0;
      peerModulithClientCpuNs = 0;
      peerModulithServerCpuNs = 0;
      peerNamastackNs = 0;
      peerNamastackTx = 0;
      peerNamastackClientCpuNs = 0;
      peerNamastackServerCpuNs = 0;
    }

    void cpu(Variant variant, long clientNanos, long serverNanos) {
      switch (variant) {
        case NONE -> {
          noneClientCpuNs += clientNanos;
          noneServerCpuNs += serverNanos;
        }
        case TABLE -> {
          tableClientCpuNs += clientNanos;
          tableServerCpuNs += serverNanos;
        }
        case TABLE_DELETE -> {
          tableDeleteClientCpuNs += clientNanos;
          tableDeleteServerCpuNs += serverNanos;
        }
        case WAL_MESSAGE -> {
          walMessageClientCpuNs += clientNanos;
          walMessageServerCpuNs += serverNanos;
        }
        case TABLE_COMMIT -> {
          tableCommitClientCpuNs += clientNanos;
          tableCommitServerCpuNs += serverNanos;
        }
        case TABLE_DELETE_COMMIT -> {
          tableDeleteCommitClientCpuNs += clientNanos;
          tableDeleteCommitServerCpuNs += serverNanos;
        }
        case WAL_MESSAGE_COMMIT -> {
          walMessageCommitClientCpuNs += clientNanos;
          walMessageCommitServerCpuNs += serverNanos;
        }
        case ROUND_TRIP -> {
          roundTripClientCpuNs += clientNanos;
          roundTripServerCpuNs += serverNanos;
        }
        case PIPELINED_NOOP -> {
          pipelinedNoopClientCpuNs += clientNanos;
          pipelinedNoopServerCpuNs += serverNanos;
        }
        case LEGACY_ROW -> {
          legacyRowClientCpuNs += clientNanos;
          legacyRowServerCpuNs += serverNanos;
        }
        case PEER_GRUELBOX -> {
          peerGruelboxClientCpuNs += clientNanos;
          peerGruelboxServerCpuNs += serverNanos;
        }
        case PEER_MODULITH -> {
          peerModulithClientCpuNs += clientNanos;
          peerModulithServerCpuNs += serverNanos;
        }
        case PEER_NAMASTACK -> {
          peerNamastackClientCpuNs += clientNanos;
          peerNamastackServerCpuNs += serverNanos;
        }
      }
    }

    void record(Variant variant, long nanos) {
      switch (variant) {
        case NONE -> {
          noneNs += nanos;
          noneTx++;
        }
        case TABLE -> {
          tableNs += nanos;
          tableTx++;
        }
        case TABLE_DELETE -> {
          tableDeleteNs += nanos;
          tableDeleteTx++;
        }
        case WAL_MESSAGE -> {
          walMessageNs += nanos;
          walMessageTx++;
        }
        case TABLE_COMMIT -> {
          tableCommitNs += nanos;
          tableCommitTx++;
        }
        case TABLE_DELETE_COMMIT -> {
          tableDeleteCommitNs += nanos;
          tableDeleteCommitTx++;
        }
        case WAL_MESSAGE_COMMIT -> {
          walMessageCommitNs += nanos;
          walMessageCommitTx++;
        }
        case ROUND_TRIP -> {
          roundTripNs += nanos;
          roundTripTx++;
        }
        case PIPELINED_NOOP -> {
          pipelinedNoopNs += nanos;
          pipelinedNoopTx++;
        }
        case LEGACY_ROW -> {
          legacyRowNs += nanos;
          legacyRowTx++;
        }
        case PEER_GRUELBOX -> {
          peerGruelboxNs += nanos;
          peerGruelboxTx++;
        }
        case PEER_MODULITH -> {
          peerModulithNs += nanos;
          peerModulithTx++;
        }
        case PEER_NAMASTACK -> {
          peerNamastackNs += nanos;
          peerNamastackTx++;
        }
      }
    }
  }
}
