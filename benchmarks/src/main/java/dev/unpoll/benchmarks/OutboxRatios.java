package dev.unpoll.benchmarks;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link OutboxWriteBenchmark} in interleaved rounds and prints each variant's throughput as a
 * ratio of the {@code NONE} baseline of the same round.
 *
 * <p>Why rounds: commit latency on a shared disk drifts over minutes. Run back to back (JMH's own
 * order), the variants measured last would carry the drift. Here every round runs each variant
 * once, in one fork, in a rotated order (round 2 starts with the second variant, ...), and a
 * variant's ratio is the median of its per-round ratios; the spread shows how quiet the machine
 * was.
 *
 * <pre>
 * java -Drounds=5 -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.OutboxRatios \
 *     -wi 2 -w 5s -i 3 -r 5s
 * </pre>
 *
 * Accepts JMH's command-line options for warm-up and measurement; forks are always one per variant
 * per round.
 */
public final class OutboxRatios {
  static final List<String> VARIANTS = List.of("NONE", "TABLE", "TABLE_DELETE", "WAL_MESSAGE");

  private OutboxRatios() {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("rounds", 5);
    CommandLineOptions cli = new CommandLineOptions(args);
    List<Map<String, Double>> perRound = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      Map<String, Double> scores = new LinkedHashMap<>();
      for (int i = 0; i < VARIANTS.size(); i++) {
        String variant = VARIANTS.get((i + round) % VARIANTS.size());
        Options options =
            new OptionsBuilder()
                .parent(cli)
                .include(OutboxWriteBenchmark.class.getName() + ".businessTransaction")
                .param("variant", variant)
                .forks(1)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        for (RunResult r : results) {
          scores.put(variant, r.getPrimaryResult().getScore());
        }
      }
      perRound.add(scores);
      System.out.printf("%nround %d of %d: %s%n", round + 1, rounds, format(scores));
    }
    System.out.println();
    System.out.println(
        "variant        median ops/s   median ratio   min ratio   max ratio   goal     met");
    for (String variant : VARIANTS) {
      List<Double> ops = new ArrayList<>();
      List<Double> ratios = new ArrayList<>();
      for (Map<String, Double> round : perRound) {
        ops.add(round.get(variant));
        ratios.add(round.get(variant) / round.get("NONE"));
      }
      double goal = goal(variant);
      double median = median(ratios);
      System.out.printf(
          "%-14s %12.1f %14.3f %11.3f %11.3f   %-8s %s%n",
          variant,
          median(ops),
          median,
          ratios.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN),
          ratios.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN),
          goal == 0 ? "" : ">= " + goal,
          goal == 0 ? "" : (median >= goal ? "yes" : "no"));
    }
  }

  static double goal(String variant) {
    return switch (variant) {
      case "TABLE", "TABLE_DELETE" -> 0.95;
      case "WAL_MESSAGE" -> 0.97;
      default -> 0;
    };
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String format(Map<String, Double> scores) {
    StringBuilder s = new StringBuilder();
    scores.forEach((k, v) -> s.append(String.format("%s=%.1f ops/s  ", k, v)));
    return s.toString().trim();
  }
}
