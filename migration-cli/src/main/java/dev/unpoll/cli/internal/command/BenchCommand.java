package dev.unpoll.cli.internal.command;

import dev.unpoll.benchmarks.RelayPollerRatios;
import dev.unpoll.cli.internal.ExitCode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unpoll bench}: the poller-vs-event-path comparison of docs/benchmarks.md (L1, and D1 with
 * {@code --db-cost}) on servers it starts on this machine, with the same tables and latency plot.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    exitCodeListHeading = ExitCode.HEADING,
    exitCodeList = {
      " 0:the comparison ran and every row was handled exactly once",
      " 1:it could not run, or a check failed (see the message)",
      " 2:usage error"
    },
    description = {
      "Compare the legacy poller with the event path on this machine: a PostgreSQL and a Kafka"
          + " broker started here (no Docker), one writer inserting integration rows at each"
          + " --rate, and in a rotated order the samples' poller every 1 s, the same every 100 ms,"
          + " and the relay with the claiming consumer. Prints commit → handled latency (p50,"
          + " p99) per arm and the ratios, and writes results.json and latency.png into --out.",
      "The defaults take about 3 minutes. docs/benchmarks.md (L1, D1) says how it measures; its"
          + " figures come from the same code with more rounds."
    })
public final class BenchCommand extends BaseCommand {
  @Option(
      names = "--rate",
      paramLabel = "<rows/s>",
      split = ",",
      defaultValue = "100,1000",
      description = "Write rates to compare at, rows/s (default: ${DEFAULT-VALUE}).")
  List<Double> rates = new ArrayList<>();

  @Option(
      names = "--rounds",
      paramLabel = "<n>",
      defaultValue = "1",
      description = "Rounds of the three arms per rate (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(
      names = "--seconds",
      paramLabel = "<s>",
      defaultValue = "10",
      description = "Seconds of writing per arm (default: ${DEFAULT-VALUE}).")
  double seconds;

  @Option(
      names = "--db-cost",
      description =
          "Also measure the database's cost (D1): ten idle pollers against one relay, and the"
              + " poller against the retired and dual phases at 200 rows/s. About 2 minutes more.")
  boolean dbCost;

  @Option(
      names = "--out",
      paramLabel = "<dir>",
      defaultValue = "unpoll-bench",
      description = "Where results.json and latency.png go (default: ${DEFAULT-VALUE}).")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (rates.isEmpty() || rates.stream().anyMatch(r -> r < 1 || r > 5000)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--rate takes rates between 1 and 5000 rows/s, not " + rates);
    }
    if (rounds < 1 || rounds > 20) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--rounds must be between 1 and 20, not " + rounds);
    }
    if (seconds < 2 || seconds > 600) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--seconds must be between 2 and 600, not " + seconds);
    }
    if (common.db != null
        || common.kafka != null
        || common.config != null
        || common.user != null
        || common.passwordEnv != null
        || common.json) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "unpoll bench runs on a PostgreSQL and a Kafka broker it starts itself: --db, --kafka,"
              + " --config, --user, --password-env and --json are not supported (running it"
              + " against your own database is not built yet; docs/benchmarks.md shows how to"
              + " rerun the same harness from a checkout)");
    }
    if (!common.verbose) {
      quietLibraries();
    }
    line("unpoll bench: the poller against the event path, on servers started here");
    out().flush();
    RelayPollerRatios.bench(rounds, rates, seconds, dbCost, out, out());
    line("");
    line("wrote " + out.resolve("results.json") + " and " + out.resolve("latency.png"));
    return ExitCode.OK.code();
  }
}
