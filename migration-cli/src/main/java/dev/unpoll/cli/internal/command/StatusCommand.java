package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.DurationConverter;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Durations;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.Sizes;
import dev.unpoll.migration.StatusReport;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.relay.ConnectorStatus;
import dev.unpoll.relay.RelayException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unpoll status}: every table's phase, the slot's retained WAL and lag, each topic's last
 * event and rate, the consumer group's lag, the dead letters; once, or live with {@code --watch}.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Every migrated table's phase and when it changed, the relay slot's retained WAL and lag,"
          + " and with --kafka each table's topic (last event, events/s), its consumer group's lag"
          + " and its dead letters (<topic>.DLT). --watch refreshes the view until Ctrl-C."
    })
public final class StatusCommand extends BaseCommand {
  /** Moves the cursor home and clears the screen (ANSI). */
  private static final String CLEAR_SCREEN = "\033[H\033[2J";

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

  @Option(
      names = "--watch",
      description =
          "Refresh the view every --interval until Ctrl-C: in place on a terminal, one snapshot"
              + " after the other otherwise; with --json, one JSON snapshot per line.")
  boolean watch;

  @Option(
      names = "--interval",
      paramLabel = "<duration>",
      defaultValue = "2s",
      converter = DurationConverter.class,
      description = "Time between two snapshots of --watch (default: ${DEFAULT-VALUE}).")
  Duration interval;

  @Option(
      names = "--count",
      paramLabel = "<n>",
      description = "With --watch, stop after this many snapshots (default: until Ctrl-C).")
  Integer count;

  @Option(
      names = "--connect-url",
      paramLabel = "<url>",
      description =
          "Kafka Connect's REST API, e.g. http://connect:8083: also show every connector's and"
              + " task's state (docs/kafka-connect.md). Without --db or --config, only that.")
  URI connectUrl;

  @Override
  public Integer call() {
    if (connectUrl != null && watch) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--connect-url is shown once, not with --watch; drop one of them");
    }
    if (connectUrl != null && common.db == null && common.config == null) {
      List<ConnectorStatus> connectors = connectors();
      if (common.json) {
        ObjectNode n = JSON.createObjectNode();
        n.set("connect", toJson(connectors));
        printJson(n);
      } else {
        connectLines(connectors).forEach(this::line);
      }
      return ExitCode.OK.code();
    }
    if (interval.isZero() || interval.isNegative()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--interval must be positive, e.g. 2s (got " + interval + ")");
    }
    if (count != null && !watch) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--count counts the snapshots of --watch; add --watch");
    }
    if (count != null && count < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--count must be at least 1 (got " + count + ")");
    }
    Migrations m = engine().slot(slot).build();
    TableName logTable = table == null ? null : Migrations.table(table);
    if (!watch) {
      StatusReport report = m.status(logTable);
      List<ConnectorStatus> connectors = connectUrl == null ? null : connectors();
      if (common.json) {
        ObjectNode n = toJson(report, logTable != null);
        if (connectors != null) {
          n.set("connect", toJson(connectors));
        }
        printJson(n);
      } else {
        lines(report, logTable).forEach(this::line);
        if (connectors != null) {
          connectLines(connectors).forEach(this::line);
        }
      }
      return ExitCode.OK.code();
    }
    return watch(m, logTable);
  }

  private List<ConnectorStatus> connectors() {
    try {
      return ConnectorStatus.fetch(connectUrl);
    } catch (RelayException e) {
      throw new MigrationException(e.getMessage(), e);
    }
  }

  private List<String> connectLines(List<ConnectorStatus> connectors) {
    List<String> lines = new ArrayList<>();
    if (connectors.isEmpty()) {
      lines.add("Kafka Connect at " + connectUrl + ": no connector");
    }
    connectors.forEach(c -> lines.add(c.line()));
    return lines;
  }

  private static ArrayNode toJson(List<ConnectorStatus> connectors) {
    ArrayNode arr = JSON.createArrayNode();
    for (ConnectorStatus c : connectors) {
      ObjectNode cn = arr.addObject();
      cn.put("name", c.name());
      cn.put("state", c.state());
      cn.put("workerId", c.workerId());
      ArrayNode tasks = cn.putArray("tasks");
      for (ConnectorStatus.Task t : c.tasks()) {
        ObjectNode tn = tasks.addObject();
        tn.put("id", t.id());
        tn.put("state", t.state());
        tn.put("workerId", t.workerId());
        tn.put("error", t.error());
      }
    }
    return arr;
  }

  /** Samples every {@link #interval} until interrupted (Ctrl-C) or {@link #count} snapshots. */
  private int watch(Migrations m, TableName logTable) {
    boolean live = root().terminal() && !common.json;
    Thread worker = Thread.currentThread();
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = null;
    if (root().ownsProcess()) {
      // Ctrl-C: stop sampling, let the last lines out, end with 0 (not the JVM's 130).
      hook =
          new Thread(
              () -> {
                worker.interrupt();
                try {
                  stopped.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                  // halt anyway
                }
                Runtime.getRuntime().halt(ExitCode.OK.code());
              },
              "unpoll-status-watch-stop");
      Runtime.getRuntime().addShutdownHook(hook);
    }
    StatusReport previous = null;
    int taken = 0;
    try {
      while (!Thread.currentThread().isInterrupted()) {
        StatusReport report;
        try {
          report = m.status(logTable, previous);
        } catch (RuntimeException e) {
          if (Thread.currentThread().isInterrupted() || interruption(e)) {
            break;
          }
          if (previous == null) {
            throw e;
          }
          // a later sample failing (broker restarting, failover): say so, keep watching
          err().println("unpoll status: " + e.getMessage() + " (trying again in " + every() + ")");
          err().flush();
          report = null;
        }
        if (report != null) {
          show(report, logTable, live);
          previous = report;
        }
        taken++;
        if (count != null && taken >= count) {
          break;
        }
        TimeUnit.NANOSECONDS.sleep(interval.toNanos());
      }
    } catch (InterruptedException e) {
      // Ctrl-C (or the embedding thread's interrupt): the normal end of --watch
    } finally {
      out().flush();
      stopped.countDown();
      if (hook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running and ends the JVM
        }
      }
    }
    return ExitCode.OK.code();
  }

  private static boolean interruption(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof InterruptedException
          || t instanceof org.apache.kafka.common.errors.InterruptException) {
        return true;
      }
    }
    return false;
  }

  private void show(StatusReport report, TableName logTable, boolean live) {
    if (common.json) {
      // one snapshot per line, for scripts (jq -c, line-by-line readers)
      out().println(toJson(report, logTable != null).toString());
    } else if (live) {
      StringBuilder screen = new StringBuilder(CLEAR_SCREEN);
      screen.append(header(report)).append(" (Ctrl-C to stop)").append('\n');
      lines(report, logTable).forEach(l -> screen.append(l).append('\n'));
      out().print(screen);
    } else {
      line(header(report));
      lines(report, logTable).forEach(this::line);
    }
    out().flush();
  }

  private String header(StatusReport report) {
    return "--- " + report.takenAt().truncatedTo(ChronoUnit.SECONDS) + ", every " + every();
  }

  private String every() {
    return Durations.format(interval);
  }

  private static ObjectNode toJson(StatusReport report, boolean withLog) {
    StatusReport.SlotStatus sl = report.slot();
    ObjectNode n = JSON.createObjectNode();
    n.put("takenAt", report.takenAt().toString());
    n.put("kafkaChecked", report.kafkaChecked());
    ObjectNode sn = n.putObject("slot");
    sn.put("name", sl.name());
    sn.put("exists", sl.exists());
    sn.put("active", sl.active());
    sn.put("retainedWalBytes", sl.retainedWalBytes());
    sn.put("lagBytes", sl.lagBytes());
    sn.put("walStatus", sl.walStatus());
    sn.put("problem", sl.problem());
    ArrayNode tables = n.putArray("tables");
    for (StatusReport.TableStatus st : report.tables()) {
      ObjectNode tn = tables.addObject();
      tn.put("table", st.table());
      tn.put("phase", st.phase().id());
      tn.put("since", st.since().toString());
      tn.put("topic", st.topic());
      tn.put("lastEventTime", st.lastEventTime() == null ? null : st.lastEventTime().toString());
      tn.put("endOffset", st.endOffset());
      tn.put("eventsPerSecond", st.eventsPerSecond());
      ArrayNode groups = tn.putArray("consumerGroups");
      for (StatusReport.GroupLag g : st.consumerGroups()) {
        ObjectNode gn = groups.addObject();
        gn.put("group", g.group());
        gn.put("lag", g.lag());
        gn.put("uncommittedPartitions", g.uncommittedPartitions());
        gn.put("members", g.members());
        gn.put("state", g.state());
      }
      tn.put("deadLetterTopic", st.deadLetterTopic());
      tn.put("deadLetters", st.deadLetters());
    }
    if (withLog) {
      ArrayNode ln = n.putArray("log");
      for (StatusReport.LogEntry e : report.log().orElse(List.of())) {
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
    return n;
  }

  /** The text view: the slot, a line per table (and one with its Kafka figures), the log. */
  private static List<String> lines(StatusReport report, TableName logTable) {
    List<String> lines = new ArrayList<>();
    StatusReport.SlotStatus sl = report.slot();
    lines.add(
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
    if (sl.problem() != null) {
      lines.add("slot " + sl.name() + ": " + sl.problem());
    }
    if (report.tables().isEmpty()) {
      lines.add("no table is being migrated (run `unpoll capture --table ...`)");
    }
    for (StatusReport.TableStatus st : report.tables()) {
      Instant last = st.lastEventTime();
      lines.add(
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
      if (report.kafkaChecked() && st.topic() != null) {
        lines.add("    " + kafkaFigures(st));
      }
    }
    if (logTable != null) {
      List<StatusReport.LogEntry> log = report.log().orElse(List.of());
      lines.add("log of " + logTable.display() + ":");
      if (log.isEmpty()) {
        lines.add("  (no transitions)");
      }
      for (StatusReport.LogEntry e : log) {
        List<String> failed = e.failedGates();
        lines.add(
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
    return lines;
  }

  private static String kafkaFigures(StatusReport.TableStatus st) {
    if (st.endOffset() == null) {
      return "topic " + st.topic() + " does not exist yet";
    }
    StringBuilder b = new StringBuilder();
    b.append(
        st.eventsPerSecond() == null
            ? "events/s -"
            : String.format(Locale.ROOT, "events/s %.1f", st.eventsPerSecond()));
    b.append("  events ").append(st.endOffset());
    if (st.consumerGroups().isEmpty()) {
      b.append("  group (none recorded)");
    }
    for (StatusReport.GroupLag g : st.consumerGroups()) {
      b.append("  group ")
          .append(g.group())
          .append(" lag ")
          .append(g.lag())
          .append(" (")
          .append(g.members())
          .append(" consumer(s), ")
          .append(g.state())
          .append(
              g.uncommittedPartitions() > 0
                  ? ", " + g.uncommittedPartitions() + " partition(s) never committed"
                  : "")
          .append(')');
    }
    b.append("  dead letters ")
        .append(
            st.deadLetters() == null
                ? "none (no " + st.deadLetterTopic() + ")"
                : st.deadLetters() + " in " + st.deadLetterTopic());
    return b.toString();
  }

  private static String ago(Instant t) {
    Duration d = Duration.between(t, Instant.now());
    return d.isNegative() ? "0s" : Durations.format(d.withNanos(0));
  }
}
