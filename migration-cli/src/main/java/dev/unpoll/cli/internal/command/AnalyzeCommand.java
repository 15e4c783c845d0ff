package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.DurationConverter;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Sizes;
import dev.unpoll.migration.TableAnalysis;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.migration.engine.MotionObserver;
import dev.unpoll.migration.engine.TablePlan;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll analyze --table T}: the table, its polling roles, a verdict and a mapping. */
@Command(
    name = "analyze",
    description = {
      "Describe a legacy integration table: columns and types, primary key, rows and size,"
          + " insert/update/delete counts, the inferred roles (status column with its pending and"
          + " done values, payload, bookkeeping and key columns), a readiness verdict and the"
          + " proposed mapping as the relay's YAML.",
      "Exit 3 when the verdict is not-ready."
    },
    mixinStandardHelpOptions = true)
public final class AnalyzeCommand extends BaseCommand {
  @Option(
      names = "--table",
      required = true,
      paramLabel = "<schema.table>",
      description = "The table; quote mixed-case parts: '\"Sales\".\"OrderQueue\"'.")
  String table;

  @Option(
      names = "--topic",
      paramLabel = "<topic>",
      description = "Topic for the proposed mapping.")
  String topic;

  @Option(
      names = "--observe",
      paramLabel = "<duration>",
      converter = DurationConverter.class,
      description =
          "Also watch the rows for this long (e.g. 30s; off by default) and learn the status"
              + " roles from how the values move: every "
              + MotionObserver.SAMPLE_INTERVAL_SECONDS
              + "s, a read-only sample of at most the newest "
              + MotionObserver.ROWS_PER_PART
              + " rows by key, "
              + MotionObserver.ROWS_PER_PART
              + " rows in a status rows still leave and the rows already watched (at most "
              + MotionObserver.MAX_WATCHED
              + ").")
  Duration observe;

  @Override
  public Integer call() {
    TableName t = Migrations.table(table);
    TablePlan plan =
        Observing.plan(engine().build(), t, topic, observe, common.json ? null : err());
    TableAnalysis info = plan.analysis();
    if (common.json) {
      printJson(json(plan));
    } else {
      text(plan);
    }
    return info.ready() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
  }

  static ObjectNode json(TablePlan plan) {
    TableAnalysis info = plan.analysis();
    ObjectNode n = JSON.createObjectNode();
    n.put("table", info.table().display());
    ArrayNode cols = n.putArray("columns");
    for (TableAnalysis.Column c : info.columns()) {
      ObjectNode col = cols.addObject();
      col.put("name", c.name());
      col.put("type", c.type());
      col.put("nullable", c.nullable());
      col.put("default", c.defaultValue());
    }
    ArrayNode pk = n.putArray("primaryKey");
    info.primaryKey().forEach(pk::add);
    n.put("replicaIdentity", info.replicaIdentity());
    n.put("owner", info.owner());
    n.put("rows", info.rows());
    n.put("rowsExact", info.rowsExact());
    n.put("totalBytes", info.totalBytes());
    ObjectNode act = n.putObject("activity");
    info.activity().forEach(act::put);
    ObjectNode roles = n.putObject("roles");
    ArrayNode key = roles.putArray("key");
    info.roles().key().forEach(key::add);
    if (info.roles().status().isPresent()) {
      TableAnalysis.StatusColumn st = info.roles().status().get();
      ObjectNode sn = roles.putObject("status");
      sn.put("column", st.column());
      ArrayNode p = sn.putArray("pending");
      st.pending().forEach(p::add);
      ArrayNode d = sn.putArray("done");
      st.done().forEach(d::add);
      ArrayNode ip = sn.putArray("inProgress");
      st.inProgress().forEach(ip::add);
      ArrayNode f = sn.putArray("failed");
      st.failed().forEach(f::add);
      ObjectNode counts = sn.putObject("counts");
      st.counts().forEach(counts::put);
    } else {
      roles.putNull("status");
    }
    roles.put("payload", info.roles().payload().orElse(null));
    ArrayNode bk = roles.putArray("bookkeeping");
    info.roles().bookkeeping().forEach(bk::add);
    roles.put("created", info.roles().created().orElse(null));
    roles.put("processed", info.roles().processed().orElse(null));
    if (info.motion().isPresent()) {
      TableAnalysis.Motion m = info.motion().get();
      ObjectNode mn = n.putObject("motion");
      mn.put("samples", m.samples());
      mn.put("elapsedMillis", m.elapsedMillis());
      mn.put("rowsWatched", m.rowsWatched());
      mn.put("column", m.column().orElse(null));
      mn.put("moved", m.moved());
      ObjectNode ins = mn.putObject("inserted");
      m.inserted().forEach(ins::put);
      ArrayNode moves = mn.putArray("moves");
      for (TableAnalysis.Motion.Move mv : m.moves()) {
        ObjectNode o = moves.addObject();
        o.put("from", mv.from());
        o.put("to", mv.to());
        o.put("rows", mv.rows());
      }
      ObjectNode del = mn.putObject("deleted");
      m.deleted().forEach(del::put);
      ObjectNode with = mn.putObject("changedWithStatus");
      m.changedWithStatus().forEach(with::put);
    } else {
      n.putNull("motion");
    }
    n.put("verdict", info.verdict().id());
    ArrayNode notes = n.putArray("notes");
    info.notes().forEach(notes::add);
    if (plan.ready()) {
      n.set("mapping", readJson(plan.mappingJson()));
      n.put("mappingYaml", String.join("\n", plan.mappingYaml()) + "\n");
    } else {
      n.putNull("mapping");
      n.putNull("mappingYaml");
    }
    return n;
  }

  private void text(TablePlan plan) {
    TableAnalysis info = plan.analysis();
    line("table " + info.table().display() + " (owner " + info.owner() + ")");
    line(
        "rows: "
            + (info.rowsExact() ? "" : "~")
            + info.rows()
            + ", size "
            + Sizes.bytes(info.totalBytes()));
    if (!info.activity().isEmpty()) {
      line(
          "activity since stats reset: "
              + info.activity().get("inserts")
              + " inserts, "
              + info.activity().get("updates")
              + " updates, "
              + info.activity().get("deletes")
              + " deletes, "
              + info.activity().get("deadTuples")
              + " dead tuples, "
              + info.activity().get("idxScans")
              + " index scans, "
              + info.activity().get("seqScans")
              + " seq scans");
    }
    line("columns:");
    for (TableAnalysis.Column c : info.columns()) {
      String role = role(info, c.name());
      line(
          String.format(
              Locale.ROOT,
              "  %-20s %-28s %s%s",
              c.name(),
              c.type(),
              c.nullable() ? "" : "not null",
              role.isEmpty() ? "" : "  [" + role + "]"));
    }
    line(
        "primary key: "
            + (info.primaryKey().isEmpty() ? "none" : String.join(", ", info.primaryKey()))
            + "; replica identity "
            + info.replicaIdentity());
    info.roles()
        .status()
        .ifPresent(
            st ->
                line(
                    "status column "
                        + st.column()
                        + ": values "
                        + st.counts()
                        + "; pending "
                        + st.pending()
                        + ", done "
                        + st.done()
                        + (st.inProgress().isEmpty() ? "" : ", in-progress " + st.inProgress())
                        + (st.failed().isEmpty() ? "" : ", failed " + st.failed())));
    line("verdict: " + info.verdict().id());
    for (String note : info.notes()) {
      line("  - " + note);
    }
    boolean unclear =
        info.roles().status().map(s -> s.pending().isEmpty() || s.done().isEmpty()).orElse(true);
    if (unclear && info.motion().isEmpty() && !info.primaryKey().isEmpty()) {
      line(
          "  - the status roles are unclear: `unpoll analyze --table "
              + info.table().display()
              + " --observe 30s` watches the rows while the poller works and learns them from"
              + " how the values move");
    }
    if (plan.ready()) {
      line("proposed mapping (tables: entry of unpoll.yaml; `unpoll plan` writes it):");
      plan.mappingYaml().forEach(l -> line("  " + l));
    }
  }

  private static String role(TableAnalysis info, String column) {
    List<String> roles = new java.util.ArrayList<>();
    if (info.roles().key().contains(column)) {
      roles.add("key");
    }
    if (info.roles().status().map(s -> s.column().equals(column)).orElse(false)) {
      roles.add("status");
    }
    if (info.roles().payload().map(column::equals).orElse(false)) {
      roles.add("payload");
    }
    if (info.roles().bookkeeping().contains(column) && !roles.contains("status")) {
      roles.add("bookkeeping");
    }
    if (info.roles().created().map(column::equals).orElse(false)) {
      roles.add("created");
    }
    return String.join(", ", roles);
  }
}
