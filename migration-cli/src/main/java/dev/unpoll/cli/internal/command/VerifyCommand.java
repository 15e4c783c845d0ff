package dev.unpoll.cli.internal.command;

import dev.unpoll.cli.internal.DurationConverter;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.TransitionOptions;
import dev.unpoll.migration.internal.Db;
import dev.unpoll.migration.internal.Names;
import dev.unpoll.migration.internal.Settings;
import dev.unpoll.migration.internal.Verifier;
import dev.unpoll.migration.internal.VerifyReport;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll verify --table T [--since 15m]}: the reconciliation. */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Reconcile the table with the topic and the consumer: rows inserted in the window vs."
          + " events in the topic by ce_id (missing, duplicated); rows the poller handled vs. what"
          + " the consumer recorded in unpoll_shadow_ledger / unpoll_processed (missing,"
          + " unhandled, double-handled); latency p50/p95/p99 of the poller path (processed -"
          + " created) and of the event path (handled - commit).",
      "Exit 3 when an event is missing or a row is double-handled (and, in shadow, missing from"
          + " the ledger; in cutover and retired, handled by nobody)."
    })
public final class VerifyCommand extends BaseCommand {
  @Option(
      names = "--table",
      required = true,
      paramLabel = "<schema.table>",
      description = "The table.")
  String table;

  @Option(
      names = "--since",
      paramLabel = "<duration>",
      converter = DurationConverter.class,
      description =
          "The window: rows created this long ago until now (default "
              + TransitionOptions.DEFAULT_WINDOW_TEXT
              + ", and never before the table entered capturing).")
  Duration since;

  @Option(
      names = "--settle",
      paramLabel = "<duration>",
      converter = DurationConverter.class,
      description =
          "Ignore rows younger than this (default " + TransitionOptions.DEFAULT_SETTLE_TEXT + ").")
  Duration settle;

  @Option(
      names = "--group",
      paramLabel = "<consumer-group>",
      description = "The consumer's group (default: the one recorded at shadow).")
  String group;

  @Option(
      names = "--topic",
      paramLabel = "<topic>",
      description = "Topic, when nothing maps the table.")
  String topic;

  @Override
  public Integer call() {
    TableName t = Names.table(table);
    Settings s = settings();
    TransitionOptions options =
        TransitionOptions.builder()
            .window(since)
            .settle(settle)
            .consumerGroup(group)
            .topic(topic)
            .build();
    VerifyReport report;
    try (Connection c = Db.connect(s)) {
      report = Verifier.verify(c, s, t, options, progress());
    } catch (SQLException e) {
      throw Db.failure("cannot verify " + t.display(), e);
    }
    if (common.json) {
      printJson(report.json());
    } else {
      report.text().forEach(this::line);
    }
    return report.failures().isEmpty() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
  }
}
