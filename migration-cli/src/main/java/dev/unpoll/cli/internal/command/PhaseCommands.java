package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.DurationConverter;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Transition;
import dev.unpoll.migration.TransitionOptions;
import dev.unpoll.migration.engine.Migrations;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The phase commands: thin wrappers over {@link Migrations}. */
public final class PhaseCommands {
  private PhaseCommands() {}

  /** Options every phase command takes. */
  abstract static class PhaseCommand extends BaseCommand {
    @Option(
        names = "--table",
        required = true,
        paramLabel = "<schema.table>",
        description = "The table.")
    String table;

    @Option(
        names = "--reason",
        paramLabel = "<text>",
        description = "Why; recorded in unpoll.migration_log.")
    String reason;

    @Option(
        names = "--actor",
        paramLabel = "<name>",
        description = "Who; recorded in the log (default: the OS user).")
    String actor;

    @Option(
        names = "--slot",
        paramLabel = "<name>",
        description = "Replication slot (default: source.slot, else unpoll).")
    String slot;

    @Option(
        names = "--publication",
        paramLabel = "<name>",
        description = "Publication (default: source.publication, else unpoll).")
    String publication;

    Migrations migrations() {
      return engine().slot(slot).publication(publication).build().requireDatabase();
    }

    int report(Transition t) {
      if (common.json) {
        ObjectNode n = JSON.createObjectNode();
        n.put("table", t.table().display());
        n.put("from", t.from().id());
        n.put("to", t.to().id());
        n.put("applied", t.applied());
        n.put("forced", t.forced());
        n.put("reason", t.reason());
        ArrayNode gates = n.putArray("gates");
        for (Gate g : t.gates()) {
          gates.add(GateView.json(g));
        }
        ArrayNode notes = n.putArray("notes");
        t.notes().forEach(notes::add);
        printJson(n);
      } else {
        line(spec.name() + " " + t.table().display() + ": " + t.from().id() + " → " + t.to().id());
        for (Gate g : t.gates()) {
          line("  [" + (g.passed() ? "PASS" : "FAIL") + "] " + g.name() + ": " + g.detail());
          if (!g.passed()) {
            GateView.textLines(g).forEach(f -> line("         " + f));
          }
        }
        if (t.applied()) {
          line(
              t.forced()
                  ? "FORCED to "
                      + t.to().id()
                      + " past failing gates; reason recorded: "
                      + t.reason()
                  : "now in phase " + t.to().id());
        } else {
          line(
              "REFUSED: "
                  + t.failedGates().size()
                  + " gate(s) failed; the table stays in "
                  + t.from().id()
                  + " (override: --force --reason \"...\")");
        }
        t.notes().forEach(note -> line("  - " + note));
      }
      return t.applied() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
    }
  }

  /** Phase commands that reconcile events and consumer records. */
  abstract static class GatedCommand extends PhaseCommand {
    @Option(names = "--force", description = "Apply even when a gate fails (needs --reason).")
    boolean force;

    @Option(
        names = "--group",
        paramLabel = "<consumer-group>",
        description = "The new consumer's group (recorded at shadow, reused later).")
    String group;

    @Option(
        names = "--since",
        paramLabel = "<duration>",
        converter = DurationConverter.class,
        description =
            "How far back the gate looks, within the time since capture (default "
                + TransitionOptions.DEFAULT_WINDOW_TEXT
                + ").")
    Duration since;

    @Option(
        names = "--settle",
        paramLabel = "<duration>",
        converter = DurationConverter.class,
        description =
            "Ignore rows younger than this (default "
                + TransitionOptions.DEFAULT_SETTLE_TEXT
                + ").")
    Duration settle;

    TransitionOptions options(Duration hold) {
      return new TransitionOptions(force, reason, actor, since, settle, group, hold, null, true);
    }

    Integer advance(Phase target, Duration hold) {
      TransitionOptions o = options(hold);
      return report(migrations().advance(Migrations.table(table), target, o));
    }
  }

  /** {@code unpoll capture}. */
  @Command(
      name = "capture",
      mixinStandardHelpOptions = true,
      description = {
        "Start change data capture of the table: control schema unpoll, heartbeat table,"
            + " publication membership and the replication slot. Gate: wal_level, replica"
            + " identity, publication and replication privileges, a free slot. Phase → capturing.",
        "Exit 3 when a gate fails."
      })
  public static final class Capture extends PhaseCommand {
    @Option(names = "--force", description = "Apply even when a gate fails (needs --reason).")
    boolean force;

    @Option(
        names = "--topic",
        paramLabel = "<topic>",
        description = "Topic when the config file does not map the table.")
    String topic;

    @Option(
        names = "--no-create-slot",
        description = "Leave creating the slot to the relay's first start.")
    boolean noCreateSlot;

    @Override
    public Integer call() {
      TransitionOptions o =
          new TransitionOptions(force, reason, actor, null, null, null, null, topic, !noCreateSlot);
      return report(migrations().capture(Migrations.table(table), o));
    }
  }

  /** {@code unpoll shadow}. */
  @Command(
      name = "shadow",
      mixinStandardHelpOptions = true,
      description = {
        "capturing → shadow. Gate: every row in the window has its event in the topic.",
        "Exit 3 when a gate fails."
      })
  public static final class Shadow extends GatedCommand {
    @Override
    public Integer call() {
      return advance(Phase.SHADOW, null);
    }
  }

  /** {@code unpoll dual}. */
  @Command(
      name = "dual",
      mixinStandardHelpOptions = true,
      description = {
        "shadow → dual. Gates: no missing event; every row the poller handled is in the shadow"
            + " ledger; latency figures (informational).",
        "Exit 3 when a gate fails."
      })
  public static final class Dual extends GatedCommand {
    @Override
    public Integer call() {
      return advance(Phase.DUAL, null);
    }
  }

  /** {@code unpoll cutover}. */
  @Command(
      name = "cutover",
      mixinStandardHelpOptions = true,
      description = {
        "dual → cutover. Gates: no missing event; no row in the window handled by the poller;"
            + " no pending backlog; nothing double-handled.",
        "Exit 3 when a gate fails."
      })
  public static final class Cutover extends GatedCommand {
    @Override
    public Integer call() {
      return advance(Phase.CUTOVER, null);
    }
  }

  /** {@code unpoll retire}. */
  @Command(
      name = "retire",
      mixinStandardHelpOptions = true,
      description = {
        "cutover → retired. Gates: cutover has held for --hold; no missing event, nothing"
            + " unhandled or double-handled.",
        "Exit 3 when a gate fails."
      })
  public static final class Retire extends GatedCommand {
    @Option(
        names = "--hold",
        paramLabel = "<duration>",
        converter = DurationConverter.class,
        description =
            "How long cutover must have held (default "
                + TransitionOptions.DEFAULT_HOLD_TEXT
                + ").")
    Duration hold;

    @Override
    public Integer call() {
      return advance(Phase.RETIRED, hold);
    }
  }

  /** {@code unpoll rollback}. */
  @Command(
      name = "rollback",
      mixinStandardHelpOptions = true,
      description = {
        "Move the table back one phase (capturing → analyzed removes it from the publication and"
            + " drops the slot when nothing else uses it). No gate; logged with --reason.",
        "Exit 3 when the table is not being migrated."
      })
  public static final class Rollback extends PhaseCommand {
    @Override
    public Integer call() {
      TransitionOptions o =
          new TransitionOptions(false, reason, actor, null, null, null, null, null, true);
      return report(migrations().rollback(Migrations.table(table), o));
    }
  }
}
