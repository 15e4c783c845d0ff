package dev.unpoll.cli.internal.command;

import dev.unpoll.benchmarks.BenchPreflightException;
import dev.unpoll.benchmarks.RelayPollerRatios;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.migration.DoctorReport;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.Servers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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
      " 2:usage error",
      " 3:your servers (--db) do not allow it; nothing was created (see the message)"
    },
    description = {
      "Compare the legacy poller with the event path on this machine: a PostgreSQL and a Kafka"
          + " broker started here (no Docker), one writer inserting integration rows at each"
          + " --rate, and in a rotated order the samples' poller every 1 s, the same every 100 ms,"
          + " and the relay with the claiming consumer. Prints commit → handled latency (p50,"
          + " p99) per arm and the ratios, and writes results.json and latency.png into --out.",
      "With --db and --kafka (or --config) it runs L1 on your own PostgreSQL and Kafka instead:"
          + " it checks first and refuses (creating nothing) when it cannot run there cleanly,"
          + " creates its own schemas shop and shipping, slot, publication, topic and consumer"
          + " group, and removes all of them at the end, also when it fails or is interrupted.",
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
              + " poller against the retired and dual phases at 200 rows/s. About 3 minutes more.")
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
    if (common.json) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "unpoll bench does not print JSON: it prints its table and writes results.json into"
              + " --out; drop --json and read that file");
    }
    boolean own = common.db != null || common.kafka != null || common.config != null;
    if (!own && (common.user != null || common.passwordEnv != null)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "--user and --password-env go with --db and --kafka (or --config): without them unpoll"
              + " bench runs on servers it starts itself");
    }
    if (own && dbCost) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "--db-cost measures the database's CPU from its processes on this machine, and on a"
              + " server of yours its statements and WAL include all other traffic: D1 runs only on"
              + " the servers unpoll bench starts (drop --db, --kafka and --config)");
    }
    if (!common.verbose) {
      quietLibraries();
    }
    if (own) {
      return onOwnServers();
    }
    line("unpoll bench: the poller against the event path, on servers started here");
    out().flush();
    RelayPollerRatios.bench(rounds, rates, seconds, dbCost, out, out());
    line("");
    line("wrote " + out.resolve("results.json") + " and " + out.resolve("latency.png"));
    return ExitCode.OK.code();
  }

  /** The doctor's checks that decide whether the bench can run on the user's servers. */
  private static final Set<String> PREREQUISITES =
      Set.of(
          "postgresql-version",
          "wal_level",
          "replication-slots",
          "wal-senders",
          "replication-privilege",
          "publication",
          "kafka");

  private int onOwnServers() throws Exception {
    Servers target = engine().build().servers();
    if (target.user() == null) {
      throw MigrationException.usage(
          "unpoll bench --db needs a database user: pass --user (or --config with source.user)");
    }
    List<String> failed = new ArrayList<>();
    for (DoctorReport.Check c : engine().build().doctor(List.of()).checks()) {
      if (c.status() == DoctorReport.Status.FAIL && PREREQUISITES.contains(c.name())) {
        failed.add(
            c.name() + ": " + c.detail() + (c.fix() == null ? "" : " (fix: " + c.fix() + ")"));
      }
    }
    if (!failed.isEmpty()) {
      throw MigrationException.checkFailed(
          "unpoll bench cannot run on "
              + target.where()
              + " (nothing was created): "
              + String.join("; ", failed));
    }
    line("unpoll bench: the poller against the event path, on your servers");
    out().flush();
    List<String> left;
    try {
      left = RelayPollerRatios.benchOn(target, rounds, rates, seconds, out, out());
    } catch (BenchPreflightException e) {
      throw MigrationException.checkFailed(
          "unpoll bench will not run on "
              + target.where()
              + " (nothing was created): "
              + String.join("; ", e.problems()));
    }
    if (!left.isEmpty()) {
      throw new MigrationException(
          "unpoll bench ran but could not remove everything it created on "
              + target.where()
              + "; remove by hand: "
              + String.join(" ", left));
    }
    line("");
    line(
        "removed what it created; wrote "
            + out.resolve("results.json")
            + " and "
            + out.resolve("latency.png"));
    return ExitCode.OK.code();
  }
}
