package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.DurationConverter;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.Transition;
import dev.unpoll.samples.demo.Demo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll demo}: the README's first command. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    subcommands = {NotificationsDemoCommand.class},
    exitCodeListHeading = ExitCode.HEADING,
    exitCodeList = {
      " 0:every row was handled exactly once",
      " 1:the demo could not run (see the message)",
      " 2:usage error",
      " 3:a gate refused, or a row was missed or handled twice"
    },
    description = {
      "Migrate one legacy polling table to Kafka events, end to end, on a PostgreSQL and a Kafka"
          + " broker it starts on this machine (no Docker): service A inserts orders at a steady"
          + " rate, service B polls them every second, and the table goes through analyze →"
          + " capture → shadow → dual → cutover → retire with the real relay and the real"
          + " idempotent consumer, each gate checked. Ends with what happened to every row.",
      "Takes about 1.5 minutes with the defaults. The servers stop and their data is deleted when"
          + " it ends."
    })
public final class DemoCommand extends BaseCommand {
  @Option(
      names = "--rate",
      paramLabel = "<orders/s>",
      defaultValue = "20",
      description = "Orders per second service A places (default: ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--phase-time",
      paramLabel = "<duration>",
      defaultValue = "8s",
      converter = DurationConverter.class,
      description = "How long each phase runs before the next gate (default: ${DEFAULT-VALUE}).")
  Duration phaseTime;

  @Option(
      names = "--dir",
      paramLabel = "<dir>",
      description = "Where the servers' binaries and data live (default: <tmp>/unpoll-demo).")
  Path dir;

  private int step;

  @Override
  public Integer call() throws Exception {
    if (rate < 1 || rate > 1000) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--rate must be between 1 and 1000 orders/s, not " + rate);
    }
    if (phaseTime.compareTo(Duration.ofSeconds(2)) < 0) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--phase-time must be at least 2s (the gates need a window)");
    }
    if (!common.verbose) {
      // The demo narrates; the libraries' warnings (e.g. the relay noting a slot made by capture)
      // would drown it. --verbose shows them.
      quietLibraries();
    }
    Path base = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"), "unpoll-demo");
    Demo.Settings settings = new Demo.Settings(rate, phaseTime, Duration.ofSeconds(1), base);
    if (!common.json) {
      line("unpoll demo: one legacy polling table migrated to Kafka events, end to end");
    }
    Demo.Summary summary;
    try (Demo demo = new Demo(settings, narrator())) {
      summary = demo.run();
    }
    if (common.json) {
      printJson(json(summary));
    } else {
      text(summary);
    }
    return summary.ok() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
  }

  private Demo.Narrator narrator() {
    boolean quiet = common.json;
    return new Demo.Narrator() {
      @Override
      public void step(String title) {
        if (!quiet) {
          DemoCommand.this.line("");
          DemoCommand.this.line("[" + (++step) + "] " + title);
          out().flush();
        }
      }

      @Override
      public void line(String text) {
        if (!quiet) {
          DemoCommand.this.line("    " + text);
          out().flush();
        }
      }

      @Override
      public void gates(Transition t) {
        if (quiet) {
          return;
        }
        for (Gate g : t.gates()) {
          DemoCommand.this.line(
              "    gate "
                  + g.name()
                  + ": "
                  + (g.passed() ? "pass" : "FAIL")
                  + " ("
                  + g.detail()
                  + ")");
        }
        DemoCommand.this.line(
            "    " + t.from().id() + " → " + t.to().id() + (t.applied() ? "" : ": refused"));
        out().flush();
      }
    };
  }

  private void text(Demo.Summary s) {
    line("");
    line("Summary (" + s.elapsed().toSeconds() + " s)");
    row("rows written by service A", fmt(s.produced()), "");
    row(
        "handled by the poller",
        fmt(s.handledByPoller()),
        latency(s.pollerLatency()) + " from insert to handled");
    row("handled by the consumer", fmt(s.handledByConsumer()), latency(s.consumerLatency()));
    row("missing", fmt(s.missing()), "");
    row("consumer retries, dead-lettered", fmt(s.retries()) + ", " + fmt(s.deadLettered()), "");
    row("handled twice", fmt(s.doubleHandled()), "");
    row(
        "events published by the relay",
        fmt(s.eventsPublished()),
        "the rows written after capture; earlier ones were the poller's alone");
    row(
        "polling queries",
        fmt(s.pollingQueries()),
        "run; "
            + fmt(s.pollingQueriesAvoided())
            + " avoided since the poller stopped (86,400 a day per poller at 1 s)");
    row(
        "unpoll verify",
        s.verify().ok() ? "ok" : "FAILED",
        s.verify().ok() ? "" : String.join("; ", s.verify().failures()));
  }

  private void row(String label, String value, String note) {
    line(String.format(Locale.ROOT, "  %-32s %8s  %s", label, value, note).stripTrailing());
  }

  private static String latency(long[] p) {
    return "p50 " + fmt(p[0]) + " ms, p99 " + fmt(p[1]) + " ms";
  }

  private static String fmt(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  private ObjectNode json(Demo.Summary s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("ok", s.ok());
    n.put("produced", s.produced());
    n.put("handledByPoller", s.handledByPoller());
    n.put("handledByConsumer", s.handledByConsumer());
    n.put("missing", s.missing());
    n.put("doubleHandled", s.doubleHandled());
    ObjectNode latency = n.putObject("latencyMs");
    latency.putObject("poller").put("p50", s.pollerLatency()[0]).put("p99", s.pollerLatency()[1]);
    latency
        .putObject("consumer")
        .put("p50", s.consumerLatency()[0])
        .put("p99", s.consumerLatency()[1]);
    n.put("eventsPublished", s.eventsPublished());
    n.put("retries", s.retries());
    n.put("deadLettered", s.deadLettered());
    n.put("pollingQueries", s.pollingQueries());
    n.put("pollingQueriesAvoided", s.pollingQueriesAvoided());
    n.put("verifyOk", s.verify().ok());
    n.put("elapsedSeconds", s.elapsed().toSeconds());
    return n;
  }
}
