package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.BenchResults.Ratio;
import dev.unpoll.benchmarks.OrderTransactions.Variant;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link OutboxInterleavedBenchmark} and prints, per fork and overall, each variant's
 * throughput as a ratio of the {@code NONE} baseline measured in the same fork, interleaved with
 * it, then measure O1 of issue 13: our {@code publishAndCommit} against the legacy integration row
 * ({@code LEGACY_ROW}) and against the peer outbox libraries ({@code PEER_*}), all in the same
 * fork. A ratio in one fork is (mean baseline transaction time) / (mean variant transaction time)
 * over the fork's measurement iterations, i.e. a throughput ratio; the result is the median over
 * forks, with the min and max as the spread.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.OutboxRatios [--publish]
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.OutboxRatios -f 1 -wi 1 -i 1 -r 5s
 * </pre>
 *
 * Accepts JMH's command-line options ({@code -f}, {@code -wi}, {@code -w}, {@code -i}, {@code -r},
 * {@code -p sliceMillis=...}, {@code -p warmupTransactions=...}); without them the benchmark's own
 * defaults apply (5 forks, each: 3,000 transactions of every variant, 1 x 10 s warm-up, 5 x 10 s
 * measurement; about 7 to 8 minutes). {@code --publish} merges the O1 measures into {@code
 * docs/benchmarks/results.json} (or the file named by {@code -Dresults=...}); never publish a
 * shortened run.
 */
public final class OutboxRatios {

  /** Our best: the faster of the two {@code publishAndCommit} strategies in each fork. */
  static final List<Variant> OURS = List.of(Variant.TABLE_COMMIT, Variant.WAL_MESSAGE_COMMIT);

  /** The peers measured, with their measure-id suffix. */
  static final Map<Variant, String> PEERS =
      Map.of(
          Variant.PEER_GRUELBOX,
          "gruelbox",
          Variant.PEER_MODULITH,
          "modulith",
          Variant.PEER_NAMASTACK,
          "namastack");

  private OutboxRatios() {}

  /** What one fork measured: per variant, mean transaction time and CPU per transaction. */
  record Fork(
      Map<Variant, Double> meanNanos,
      Map<Variant, Double> clientCpuNanos,
      Map<Variant, Double> serverCpuNanos) {

    /** Throughput of {@code v} ÷ throughput of {@code baseline}, in this fork. */
    double ratio(Variant v, Variant baseline) {
      return meanNanos.get(baseline) / meanNanos.get(v);
    }

    double opsPerSecond(Variant v) {
      return 1e9 / meanNanos.get(v);
    }

    /** Mean transaction time of our faster {@code publishAndCommit} strategy in this fork. */
    double bestOursNanos() {
      return OURS.stream().mapToDouble(meanNanos::get).min().orElseThrow();
    }

    /** Mean transaction time of the fastest peer in this fork. */
    double fastestPeerNanos() {
      return PEERS.keySet().stream().mapToDouble(meanNanos::get).min().orElseThrow();
    }
  }

  public static void main(String[] args) throws Exception {
    List<String> jmhArgs = new ArrayList<>(List.of(args));
    boolean publish = jmhArgs.remove("--publish");
    CommandLineOptions cli = new CommandLineOptions(jmhArgs.toArray(new String[0]));
    Options options =
        new OptionsBuilder()
            .parent(cli)
            .include(OutboxInterleavedBenchmark.class.getName() + ".transaction")
            .build();
    Run run = run(options);
    List<Measure> measures = report(run.forks());
    if (publish) {
      Path file = Path.of(System.getProperty("results", BenchResults.DEFAULT_FILE.toString()));
      BenchResults.merge(file, "O1", run.settings(), measures);
      System.out.println("published to " + file.toAbsolutePath());
    }
  }

  /** The forks' figures and the settings the run used. */
  record Run(List<Fork> forks, Map<String, Object> settings) {}

  /** Runs JMH with {@code options} and collects each fork's per-variant figures. */
  static Run run(Options options) throws Exception {
    List<Fork> forks = new ArrayList<>();
    Map<String, Object> settings = new LinkedHashMap<>();
    for (RunResult run : new Runner(options).run()) {
      BenchmarkParams p = run.getParams();
      settings.put("forks", p.getForks());
      settings.put("warmup", p.getWarmup().getCount() + " x " + p.getWarmup().getTime());
      settings.put(
          "measurement", p.getMeasurement().getCount() + " x " + p.getMeasurement().getTime());
      settings.put("slice_millis", Integer.parseInt(p.getParam("sliceMillis")));
      settings.put(
          "warmup_transactions_per_variant", Integer.parseInt(p.getParam("warmupTransactions")));
      settings.put("pool", "HikariCP, 1 connection");
      settings.put("postgres", "fsync=on, full_page_writes=on, synchronous_commit=on");
      settings.put("variants", List.of(Variant.values()).toString());
      for (BenchmarkResult fork : run.getBenchmarkResults()) {
        forks.add(
            new Fork(
                perTransaction(fork, "Ns"),
                perTransaction(fork, "ClientCpuNs"),
                perTransaction(fork, "ServerCpuNs")));
      }
    }
    if (forks.isEmpty()) {
      throw new IllegalStateException("JMH returned no results");
    }
    return new Run(forks, settings);
  }

  /** Prints the per-fork and overall tables; returns measure O1 and its sub-measures. */
  static List<Measure> report(List<Fork> forks) {
    System.out.println();
    System.out.println("Per fork: ops/s of each variant (ratio to NONE of the same fork)");
    for (int f = 0; f < forks.size(); f++) {
      Fork fork = forks.get(f);
      StringBuilder line = new StringBuilder("fork " + (f + 1) + ":");
      for (Variant v : Variant.values()) {
        line.append(
            String.format(
                Locale.ROOT,
                "  %s %.0f (%.3f)",
                v,
                fork.opsPerSecond(v),
                fork.ratio(v, Variant.NONE)));
      }
      System.out.println(line);
    }
    System.out.println();
    System.out.println(
        "variant               median ops/s   median ratio   min ratio   max ratio   goal     met"
            + "   client CPU us/tx   server CPU us/tx");
    for (Variant v : Variant.values()) {
      List<Double> ops = perFork(forks, f -> f.opsPerSecond(v));
      List<Double> ratios = perFork(forks, f -> f.ratio(v, Variant.NONE));
      double goal = goal(v);
      double median = Stats.median(ratios);
      System.out.printf(
          Locale.ROOT,
          "%-21s %12.1f %14.3f %11.3f %11.3f   %-8s %-3s   %16s   %16s%n",
          v,
          Stats.median(ops),
          median,
          Stats.min(ratios),
          Stats.max(ratios),
          goal == 0 ? "" : ">= " + goal,
          goal == 0 ? "" : (median >= goal ? "yes" : "no"),
          micros(forks, Fork::clientCpuNanos, v),
          micros(forks, Fork::serverCpuNanos, v));
    }

    List<Measure> measures = measures(forks);
    System.out.println();
    System.out.println(
        "O1 measure                      median ratio   min ratio   max ratio   goal     met");
    for (Measure m : measures) {
      System.out.printf(
          Locale.ROOT,
          "%-31s %12.3f %11.3f %11.3f   %-8s %s%n",
          m.id(),
          m.ratio().median(),
          m.ratio().min(),
          m.ratio().max(),
          m.goal() == null ? "" : m.goal(),
          m.met() == null ? "" : (m.met() ? "yes" : "no"));
    }
    return measures;
  }

  /**
   * O1 of issue 13: {@code O1} and {@code O1.legacy.*} (ours ÷ the legacy row), {@code O1.peer.*}
   * (our best ÷ each peer) and {@code O1.peer} (our best ÷ the fastest peer), {@code O1.bare.*}
   * (each variant ÷ the bare transaction, issue 3's ratios).
   */
  static List<Measure> measures(List<Fork> forks) {
    List<Measure> out = new ArrayList<>();
    out.add(
        legacy(
            "O1",
            forks,
            Variant.TABLE_COMMIT,
            1.0,
            "TABLE_COMMIT ÷ LEGACY_ROW (the same as O1.legacy.table_commit)"));
    out.add(
        legacy(
            "O1.legacy.table_commit",
            forks,
            Variant.TABLE_COMMIT,
            1.0,
            "TABLE_COMMIT (publishAndCommit) ÷ LEGACY_ROW"));
    out.add(
        legacy(
            "O1.legacy.wal_message_commit",
            forks,
            Variant.WAL_MESSAGE_COMMIT,
            1.05,
            "WAL_MESSAGE_COMMIT (publishAndCommit) ÷ LEGACY_ROW"));
    out.add(
        legacy("O1.legacy.table", forks, Variant.TABLE, 0, "TABLE (publish, commit) ÷ LEGACY_ROW"));
    out.add(
        legacy(
            "O1.legacy.wal_message",
            forks,
            Variant.WAL_MESSAGE,
            0,
            "WAL_MESSAGE (publish, commit) ÷ LEGACY_ROW"));
    for (Map.Entry<Variant, String> peer : new EnumMap<>(PEERS).entrySet()) {
      Variant p = peer.getKey();
      out.add(
          measure(
              "O1.peer." + peer.getValue(),
              perFork(forks, f -> 1e9 / f.bestOursNanos()),
              perFork(forks, f -> f.opsPerSecond(p)),
              perFork(forks, f -> f.meanNanos().get(p) / f.bestOursNanos()),
              "our best (TABLE_COMMIT or WAL_MESSAGE_COMMIT, the faster in each fork) ÷ " + p,
              1.2));
    }
    out.add(
        measure(
            "O1.peer",
            perFork(forks, f -> 1e9 / f.bestOursNanos()),
            perFork(forks, f -> 1e9 / f.fastestPeerNanos()),
            perFork(forks, f -> f.fastestPeerNanos() / f.bestOursNanos()),
            "our best (TABLE_COMMIT or WAL_MESSAGE_COMMIT) ÷ the fastest peer ("
                + PEERS.keySet()
                + "), both the faster in each fork",
            1.2));
    for (Variant v : Variant.values()) {
      if (v == Variant.NONE) {
        continue;
      }
      out.add(
          measure(
              "O1.bare." + v.name().toLowerCase(Locale.ROOT),
              perFork(forks, f -> f.opsPerSecond(v)),
              perFork(forks, f -> f.opsPerSecond(Variant.NONE)),
              perFork(forks, f -> f.ratio(v, Variant.NONE)),
              v + " ÷ NONE (the bare business transaction)",
              goal(v)));
    }
    return out;
  }

  private static Measure legacy(
      String id, List<Fork> forks, Variant v, double goal, String ratioOf) {
    return measure(
        id,
        perFork(forks, f -> f.opsPerSecond(v)),
        perFork(forks, f -> f.opsPerSecond(Variant.LEGACY_ROW)),
        perFork(forks, f -> f.ratio(v, Variant.LEGACY_ROW)),
        ratioOf,
        goal);
  }

  /** A throughput measure; {@code goal} 0 means none. */
  private static Measure measure(
      String id,
      List<Double> value,
      List<Double> baseline,
      List<Double> ratios,
      String ratioOf,
      double goal) {
    Ratio ratio = Ratio.of(ratios);
    return new Measure(
        id,
        Stats.median(value),
        Stats.median(baseline),
        ratio,
        ratioOf,
        goal == 0 ? null : String.format(Locale.ROOT, "≥ %s", goal),
        goal == 0 ? null : ratio.median() >= goal,
        "tx/s");
  }

  private static List<Double> perFork(List<Fork> forks, ToDoubleFunction<Fork> figure) {
    List<Double> values = new ArrayList<>();
    for (Fork f : forks) {
      values.add(figure.applyAsDouble(f));
    }
    return values;
  }

  /** Median over forks of a per-transaction CPU figure, in microseconds; n/a if never read. */
  private static String micros(
      List<Fork> forks, java.util.function.Function<Fork, Map<Variant, Double>> cpu, Variant v) {
    double median = Stats.median(perFork(forks, f -> cpu.apply(f).get(v)));
    return median > 0 ? String.format(Locale.ROOT, "%.1f", median / 1000) : "n/a";
  }

  /** A counter summed over the fork's measurement iterations, divided by its transactions. */
  private static Map<Variant, Double> perTransaction(BenchmarkResult fork, String suffix) {
    Map<Variant, Double> sum = new EnumMap<>(Variant.class);
    Map<Variant, Double> count = new EnumMap<>(Variant.class);
    for (IterationResult iteration : fork.getIterationResults()) {
      Map<String, Result> counters = iteration.getSecondaryResults();
      for (Variant v : Variant.values()) {
        sum.merge(v, score(counters, counterName(v) + suffix), Double::sum);
        count.merge(v, score(counters, counterName(v) + "Tx"), Double::sum);
      }
    }
    Map<Variant, Double> per = new EnumMap<>(Variant.class);
    for (Variant v : Variant.values()) {
      if (count.get(v) < 1) {
        throw new IllegalStateException(
            v + " ran no transaction in a fork: the measurement is too short for its slices");
      }
      per.put(v, sum.get(v) / count.get(v));
    }
    return per;
  }

  private static double score(Map<String, Result> counters, String name) {
    Result r = counters.get(name);
    if (r == null) {
      throw new IllegalStateException("JMH reported no counter " + name + ": " + counters.keySet());
    }
    return r.getScore();
  }

  /** {@code TABLE_DELETE_COMMIT} -> {@code tableDeleteCommit}, the counter's field prefix. */
  static String counterName(Variant v) {
    String[] parts = v.name().toLowerCase(Locale.ROOT).split("_");
    StringBuilder s = new StringBuilder(parts[0]);
    for (int i = 1; i < parts.length; i++) {
      s.append(Character.toUpperCase(parts[i].charAt(0))).append(parts[i].substring(1));
    }
    return s.toString();
  }

  /** Issue 3's goals against the bare transaction; 0 where a variant has none. */
  static double goal(Variant v) {
    return switch (v) {
      case TABLE, TABLE_DELETE, TABLE_COMMIT, TABLE_DELETE_COMMIT -> 0.95;
      case WAL_MESSAGE, WAL_MESSAGE_COMMIT -> 0.97;
      default -> 0;
    };
  }
}
