package dev.unpoll.benchmarks;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link OutboxWriteBenchmark} and prints each variant's throughput as a ratio of the {@code
 * NONE} baseline measured in the same run. Accepts JMH's command-line options (e.g. {@code -f 1 -wi
 * 1 -i 1 -r 2s} for a smoke run):
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.OutboxRatios [jmh options]
 * </pre>
 */
public final class OutboxRatios {
  private OutboxRatios() {}

  public static void main(String[] args) throws Exception {
    CommandLineOptions cli = new CommandLineOptions(args);
    Options options =
        new OptionsBuilder()
            .parent(cli)
            .include(OutboxWriteBenchmark.class.getName() + ".businessTransaction")
            .build();
    Collection<RunResult> results = new Runner(options).run();
    Map<String, double[]> byVariant = new LinkedHashMap<>();
    for (RunResult r : results) {
      String variant = r.getParams().getParam("variant");
      byVariant.put(
          variant,
          new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
    }
    double[] baseline = byVariant.get("NONE");
    System.out.println();
    System.out.println("variant        ops/s (± 99.9% CI)      ratio to NONE   goal");
    for (Map.Entry<String, double[]> e : byVariant.entrySet()) {
      double[] v = e.getValue();
      String ratio = baseline == null ? "n/a" : String.format("%.3f", v[0] / baseline[0]);
      String goal =
          switch (e.getKey()) {
            case "TABLE", "TABLE_DELETE" -> ">= 0.95";
            case "WAL_MESSAGE" -> ">= 0.97";
            default -> "";
          };
      System.out.printf("%-14s %10.1f ± %-10.1f %13s   %s%n", e.getKey(), v[0], v[1], ratio, goal);
    }
  }
}
