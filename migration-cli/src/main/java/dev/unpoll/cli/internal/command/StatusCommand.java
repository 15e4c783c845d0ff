package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Durations;
import dev.unpoll.migration.Sizes;
import dev.unpoll.migration.StatusReport;
import dev.unpoll.migration.engine.Migrations;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll status}: every table's phase, the slot's retained WAL and lag, last events. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Every migrated table's phase and when it changed, the relay slot's retained WAL and lag,"
          + " and the time of the last event in each table's topic (when --kafka is given)."
    })
public final class StatusCommand extends BaseCommand {
  @Option(
      names = "--slot",
      paramLabel = "<name>",
      description = "The relay's slot (default: source.slot in --config).")
  String slot;

  @Option(
      names = "--table",
      paramLabel = "<schema.table>",
      description = "Also show this table's transition log (unpoll.migration_log).")
  String table;

  @Override
  public Integer call() {
    Migrations m = engine().slot(slot).build();
    TableName logTable = table == null ? null : Migrations.table(table);
    StatusReport report = m.status(logTable);
    StatusReport.SlotStatus sl = report.slot();
    List<StatusReport.LogEntry> log = report.log().orElse(List.of());
    if (common.json) {
      ObjectNode n = JSON.createObjectNode();
      ObjectNode sn = n.putObject("slot");
      sn.put("name", sl.name());
      sn.put("exists", sl.exists());
      sn.put("active", sl.active());
      sn.put("retainedWalBytes", sl.retainedWalBytes());
      sn.put("lagBytes", sl.lagBytes());
      sn.put("walStatus", sl.walStatus());
      ArrayNode tables = n.putArray("tables");
      for (StatusReport.TableStatus st : report.tables()) {
        ObjectNode tn = tables.addObject();
        tn.put("table", st.table());
        tn.put("phase", st.phase().id());
        tn.put("since", st.since().toString());
        tn.put("topic", st.topic());
        tn.put("lastEventTime", st.lastEventTime() == null ? null : st.lastEventTime().toString());
      }
      if (logTable != null) {
        ArrayNode ln = n.putArray("log");
        for (StatusReport.LogEntry e : log) {
          ObjectNode en = ln.addObject();
          en.put("table", e.table());
          en.put("from", e.from() == null ? null : e.from().id());
          en.put("to", e.to().id());
          en.put("at", e.at().toString());
          en.put("actor", e.actor());
          en.put("reason", e.reason());
          en.set("gates", readJson(e.gateResultsJson()));
        }
      }
      printJson(n);
    } else {
      line(
          sl.exists()
              ? "slot "
                  + sl.name()
                  + ": "
                  + (sl.active() ? "active" : "INACTIVE")
                  + ", retains "
                  + Sizes.bytes(sl.retainedWalBytes())
                  + ", lag "
                  + Sizes.bytes(sl.lagBytes())
              : sl.name() == null
                  ? "slot: none named (pass --slot or --config unpoll.yaml with source.slot)"
                  : "slot " + sl.name() + ": does not exist");
      if (report.tables().isEmpty()) {
        line("no table is being migrated (run `unpoll capture --table ...`)");
      }
      for (StatusReport.TableStatus st : report.tables()) {
        Instant last = st.lastEventTime();
        line(
            String.format(
                Locale.ROOT,
                "%-40s %-10s since %s  topic %s  last event %s",
                st.table(),
                st.phase().id(),
                st.since(),
                st.topic(),
                !report.kafkaChecked()
                    ? "(no --kafka)"
                    : last == null ? "none" : last + " (" + ago(last) + " ago)"));
      }
    }
    if (logTable != null && !common.json) {
      line("log of " + logTable.display() + ":");
      if (log.isEmpty()) {
        line("  (no transitions)");
      }
      for (StatusReport.LogEntry e : log) {
        List<String> failed = e.failedGates();
        line(
            "  "
                + e.at()
                + "  "
                + (e.from() == null ? "-" : e.from().id())
                + " → "
                + e.to().id()
                + "  by "
                + e.actor()
                + (failed.isEmpty() ? "" : "  FORCED past " + failed)
                + (e.reason() == null ? "" : "  reason: " + e.reason()));
      }
    }
    return ExitCode.OK.code();
  }

  private static String ago(Instant t) {
    Duration d = Duration.between(t, Instant.now());
    return d.isNegative() ? "0s" : Durations.format(d.withNanos(0));
  }
}
