package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.DurationConverter;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Reconciliation;
import dev.unpoll.migration.TransitionOptions;
import dev.unpoll.migration.engine.Migrations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
    TableName t = Migrations.table(table);
    Migrations m = engine().build();
    TransitionOptions options =
        TransitionOptions.builder()
            .window(since)
            .settle(settle)
            .consumerGroup(group)
            .topic(topic)
            .build();
    Reconciliation r = m.verify(t, options, progress());
    if (common.json) {
      printJson(json(r));
    } else {
      text(r).forEach(this::line);
    }
    return r.ok() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
  }

  /** The reconciliation as {@code --json} prints it (field names in docs/cli.md). */
  static ObjectNode json(Reconciliation r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("table", r.table().display());
    n.put("topic", r.topic());
    n.put("consumerGroup", r.consumerGroup());
    n.put("phase", r.phase() == null ? null : r.phase().id());
    ObjectNode w = n.putObject("window");
    w.put("from", r.window().from() == null ? null : r.window().from().toString());
    w.put("to", r.window().to() == null ? null : r.window().to().toString());
    w.put("allRows", r.window().allRows());
    n.put("rows", r.rows());
    Reconciliation.Events e = r.events();
    ObjectNode ev = n.putObject("events");
    ev.put("topicFound", e.topicFound());
    ev.put("inTopic", e.inTopic());
    ev.put("missing", e.missing());
    ev.put("duplicated", e.duplicated());
    keys(ev.putArray("missingKeys"), e.missingKeys());
    keys(ev.putArray("duplicatedKeys"), e.duplicatedKeys());
    Reconciliation.Handling hd = r.handling();
    ObjectNode h = n.putObject("handling");
    h.put("done", hd.done());
    h.put("pollerHandled", hd.pollerHandled());
    h.put("consumerHandled", hd.consumerHandled());
    h.put("ledgerRecorded", hd.ledgerRecorded());
    h.put("missingInLedger", hd.missingInLedger());
    h.put("unhandled", hd.unhandled());
    h.put("doubleHandled", hd.doubleHandled());
    h.put("backlog", hd.backlog());
    h.put("processedTableFound", hd.processedTableFound());
    h.put("ledgerTableFound", hd.ledgerTableFound());
    keys(h.putArray("missingInLedgerKeys"), hd.missingInLedgerKeys());
    keys(h.putArray("unhandledKeys"), hd.unhandledKeys());
    keys(h.putArray("backlogKeys"), hd.backlogKeys());
    keys(h.putArray("doubleHandledKeys"), hd.doubleHandledKeys());
    ObjectNode l = n.putObject("latency");
    l.set("poller", json(r.pollerLatency()));
    l.set("event", json(r.eventLatency()));
    ArrayNode f = n.putArray("failures");
    r.failures().forEach(f::add);
    n.put("ok", r.ok());
    return n;
  }

  /** Latency percentiles as JSON. */
  static ObjectNode json(Reconciliation.Latency p) {
    ObjectNode n = JSON.createObjectNode();
    n.put("count", p.count());
    n.put("p50Ms", p.p50Ms());
    n.put("p95Ms", p.p95Ms());
    n.put("p99Ms", p.p99Ms());
    return n;
  }

  /** The reconciliation as lines of text. */
  static List<String> text(Reconciliation r) {
    Reconciliation.Events e = r.events();
    Reconciliation.Handling h = r.handling();
    List<String> out = new ArrayList<>();
    out.add(
        "table "
            + r.table().display()
            + " → topic "
            + r.topic()
            + (r.phase() == null ? "" : " (phase " + r.phase().id() + ")"));
    out.add(
        r.window().allRows()
            ? "window: all rows (no creation-time column)"
            : "window: " + r.window().from() + " .. " + r.window().to());
    out.add("rows in window: " + r.rows() + ", events of the table in topic: " + e.inTopic());
    out.add(
        "events: missing "
            + e.missing()
            + sample(e.missingKeys(), e.missing())
            + ", duplicated "
            + e.duplicated()
            + sample(e.duplicatedKeys(), e.duplicated()));
    out.add(
        "handling: done "
            + h.done()
            + ", by poller "
            + h.pollerHandled()
            + ", by consumer "
            + h.consumerHandled()
            + ", in shadow ledger "
            + h.ledgerRecorded()
            + ", backlog "
            + (h.backlog() < 0
                ? "n/a"
                : Long.toString(h.backlog()) + sample(h.backlogKeys(), h.backlogKeys().size())));
    if (r.consumerGroup() == null) {
      out.add("consumer: no --group given, consumer records not compared");
    } else {
      out.add(
          "consumer "
              + r.consumerGroup()
              + ": missing in ledger "
              + h.missingInLedger()
              + sample(h.missingInLedgerKeys(), h.missingInLedger())
              + ", unhandled "
              + h.unhandled()
              + sample(h.unhandledKeys(), h.unhandled())
              + ", double-handled "
              + h.doubleHandled()
              + sample(h.doubleHandledKeys(), h.doubleHandled()));
    }
    out.add("latency poller path (processed - created): " + text(r.pollerLatency()));
    out.add("latency event path (handled - commit): " + text(r.eventLatency()));
    out.add(r.ok() ? "OK" : "FAILED: " + String.join("; ", r.failures()));
    return out;
  }

  private static String text(Reconciliation.Latency p) {
    return p.count() == 0
        ? "no samples"
        : "p50 "
            + p.p50Ms()
            + " ms, p95 "
            + p.p95Ms()
            + " ms, p99 "
            + p.p99Ms()
            + " ms ("
            + p.count()
            + " rows)";
  }

  /** Up to five of the sample {@code keys}, with … when {@code total} keys are more. */
  private static String sample(List<String> keys, long total) {
    if (keys.isEmpty()) {
      return "";
    }
    List<String> first = keys.subList(0, Math.min(5, keys.size()));
    return " " + first + (total > first.size() ? "…" : "");
  }

  private static void keys(ArrayNode a, List<String> keys) {
    keys.forEach(a::add);
  }
}
