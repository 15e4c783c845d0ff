package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.OrderTransactions.Variant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * it. A variant's ratio in one fork is (mean {@code NONE} transaction time) / (mean variant
 * transaction time) over the fork's measurement iterations; the result is the median over forks,
 * with the min and max as the spread.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.OutboxRatios
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.OutboxRatios -f 1 -wi 1 -i 1 -r 5s
 * </pre>
 *
 * Accepts JMH's command-line options ({@code -f}, {@code -wi}, {@code -w}, {@code -i}, {@code -r},
 * {@code -p sliceMillis=...}); without them the benchmark's own defaults apply (5 forks, 2 x 10 s
 * warm-up, 5 x 10 s measurement: about 7 minutes).
 */
public final class OutboxRatios {

  private OutboxRatios() {}

  public static void main(String[] args) throws Exception {
    CommandLineOptions cli = new CommandLineOptions(args);
    Options options =
        new OptionsBuilder()
            .parent(cli)
            .include(OutboxInterleavedBenchmark.class.getName() + ".transaction")
            .build();
    List<Map<Variant, Double>> meanNanosPerFork = new ArrayList<>();
    List<Map<Variant, Double>> clientCpuPerFork = new ArrayList<>();
    List<Map<Variant, Double>> serverCpuPerFork = new ArrayList<>();
    for (RunResult run : new Runner(options).run()) {
      for (BenchmarkResult fork : run.getBenchmarkResults()) {
        meanNanosPerFork.add(perTransaction(fork, "Ns"));
        clientCpuPerFork.add(perTransaction(fork, "ClientCpuNs"));
        serverCpuPerFork.add(perTransaction(fork, "ServerCpuNs"));
      }
    }
    if (meanNanosPerFork.isEmpty()) {
      throw new IllegalStateException("JMH returned no results");
    }
    System.out.println();
    System.out.println("Per fork: ops/s of each variant (ratio to NONE of the same fork)");
    for (int f = 0; f < meanNanosPerFork.size(); f++) {
      Map<Variant, Double> fork = meanNanosPerFork.get(f);
      StringBuilder line = new StringBuilder("fork " + (f + 1) + ":");
      for (Variant v : Variant.values()) {
        line.append(
            String.format(
                Locale.ROOT,
                "  %s %.0f (%.3f)",
                v,
                1e9 / fork.get(v),
                fork.get(Variant.NONE) / fork.get(v)));
      }
      System.out.println(line);
    }
    System.out.println();
    System.out.println(
        "variant               median ops/s   median ratio   min ratio   max ratio   goal     met"
            + "   client CPU us/tx   server CPU us/tx");
    for (Variant v : Variant.values()) {
      List<Double> ops = new ArrayList<>();
      List<Double> ratios = new ArrayList<>();
      for (Map<Variant, Double> fork : meanNanosPerFork) {
        ops.add(1e9 / fork.get(v));
        ratios.add(fork.get(Variant.NONE) / fork.get(v));
      }
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
          micros(clientCpuPerFork, v),
          micros(serverCpuPerFork, v));
    }
  }

  /** Median over forks of a per-transaction CPU figure, in microseconds; n/a if never read. */
  private static String micros(List<Map<Variant, Double>> perFork, Variant v) {
    List<Double> values = new ArrayList<>();
    for (Map<Variant, Double> fork : perFork) {
      values.add(fork.get(v));
    }
    double median = Stats.median(values);
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

  static double goal(Variant v) {
    return switch (v) {
      case TABLE, TABLE_DELETE, TABLE_COMMIT, TABLE_DELETE_COMMIT -> 0.95;
      case WAL_MESSAGE, WAL_MESSAGE_COMMIT -> 0.97;
      default -> 0;
    };
  }
}
