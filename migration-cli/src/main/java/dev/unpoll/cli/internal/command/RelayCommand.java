package dev.unpoll.cli.internal.command;

import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.relay.RelayMain;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/** {@code unpoll relay --config unpoll.yaml}: the relay in the foreground. */
@Command(
    name = "relay",
    mixinStandardHelpOptions = true,
    exitCodeListHeading = ExitCode.HEADING,
    exitCodeList = {
      " 0:the relay stopped cleanly (SIGTERM, Ctrl-C)",
      " 1:the relay failed (engine error, Kafka unreachable past the delivery timeout, ...)",
      " 2:the configuration is invalid (every problem is printed)",
      " 3:the slot is missing or invalidated, or the publication lacks a captured table"
    },
    description = {
      "Run the relay in the foreground: capture the configured tables (and outbox) from"
          + " PostgreSQL's WAL and publish them to Kafka, until SIGTERM or Ctrl-C.",
      "With http.port set it serves /health, /ready and /metrics; with ha.enabled it stands by"
          + " until it holds the advisory lock. See docs/relay.md and docs/operations.md."
    })
public final class RelayCommand extends BaseCommand {
  @Override
  public Integer call() {
    if (common.config == null) {
      throw MigrationException.usage("relay needs --config <unpoll.yaml> (docs/relay.md)");
    }
    // The relay narrates its own coordinates (slot, LSN, tables) at INFO; other commands keep
    // library logs quiet.
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.unpoll"))
        .setLevel(ch.qos.logback.classic.Level.INFO);
    ByteArrayOutputStream problems = new ByteArrayOutputStream();
    int exit;
    try (PrintStream ps = new PrintStream(problems, true, StandardCharsets.UTF_8)) {
      exit = RelayMain.run(common.config, ps, root().ownsProcess());
    }
    String text = problems.toString(StandardCharsets.UTF_8).strip();
    if (!text.isEmpty()) {
      for (String line : text.split("\n")) {
        err().println("unpoll relay: " + line);
      }
      err().flush();
    }
    return exit;
  }
}
