package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.DoctorReport;
import dev.unpoll.migration.DoctorReport.Check;
import dev.unpoll.migration.DoctorReport.Status;
import dev.unpoll.migration.engine.Migrations;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll doctor}: the CDC prerequisites, each pass / warn / fail with its fix. */
@Command(
    name = "doctor",
    description = {
      "Check the change-data-capture prerequisites of the database: wal_level, free slots and WAL"
          + " senders, replication privilege, ownership for publications, replica identity of the"
          + " captured tables, max_slot_wal_keep_size, existing slots and their retained WAL,"
          + " PostgreSQL version. Each check passes, warns or fails with the SQL that fixes it.",
      "Exit 3 when any check fails."
    },
    mixinStandardHelpOptions = true)
public final class DoctorCommand extends BaseCommand {
  @Option(
      names = "--table",
      paramLabel = "<schema.table>",
      description = "A table to check (repeatable); the config file's tables are always checked.")
  List<String> tables = new ArrayList<>();

  @Option(
      names = "--slot",
      paramLabel = "<name>",
      description = "The relay's slot (default: source.slot in --config).")
  String slot;

  @Override
  public Integer call() {
    Migrations m = engine().slot(slot).build();
    List<TableName> toCheck = new ArrayList<>();
    for (String t : tables) {
      toCheck.add(Migrations.table(t));
    }
    DoctorReport report = m.doctor(toCheck);
    List<Check> checks = report.checks();
    long fails = report.count(Status.FAIL);
    long warns = report.count(Status.WARN);
    if (common.json) {
      ObjectNode root = JSON.createObjectNode();
      ArrayNode arr = root.putArray("checks");
      for (Check ch : checks) {
        ObjectNode n = arr.addObject();
        n.put("name", ch.name());
        n.put("status", ch.status().id());
        n.put("detail", ch.detail());
        n.put("fix", ch.fix());
      }
      ObjectNode sum = root.putObject("summary");
      sum.put("pass", checks.size() - fails - warns);
      sum.put("warn", warns);
      sum.put("fail", fails);
      root.put("ok", fails == 0);
      printJson(root);
    } else {
      for (Check ch : checks) {
        line(String.format(Locale.ROOT, "[%-4s] %-24s %s", ch.status(), ch.name(), ch.detail()));
        if (ch.fix() != null) {
          line("       fix: " + ch.fix());
        }
      }
      line(
          (checks.size() - fails - warns)
              + " passed, "
              + warns
              + " warning(s), "
              + fails
              + " failed");
    }
    return fails > 0 ? ExitCode.CHECK_FAILED.code() : ExitCode.OK.code();
  }
}
