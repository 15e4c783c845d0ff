package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Transition;
import dev.unpoll.migration.TransitionOptions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The per-table phase machine: moves a table forward one phase behind its {@link PhaseStep}'s
 * gates, or back one phase, and logs every applied transition with its gate results, actor and
 * reason in the {@code unpoll} schema.
 */
public final class PhaseMachine {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Settings settings;

  /** A machine over the database of {@code settings}. */
  public PhaseMachine(Settings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** Moves the table back one phase and undoes what entering its current phase set up. */
  public Transition rollback(TableName table, TransitionOptions options) {
    Objects.requireNonNull(options, "options");
    try (Connection c = Db.connect(settings)) {
      Db.requireTable(c, table);
      ControlSchema.ensure(c);
      Phase current =
          ControlSchema.state(c, table, false)
              .map(ControlSchema.State::phase)
              .orElse(Phase.ANALYZED);
      if (current == Phase.ANALYZED) {
        throw new MigrationException(
            MigrationException.Kind.CHECK_FAILED,
            table.display() + " is not being migrated (phase analyzed): nothing to roll back",
            null);
      }
      Phase to = current.previous().orElseThrow();
      List<String> notes = new ArrayList<>();
      c.setAutoCommit(false);
      try {
        Optional<ControlSchema.State> locked = ControlSchema.state(c, table, true);
        if (locked.isEmpty() || locked.get().phase() != current) {
          throw new MigrationException(
              table.display() + " changed phase while rolling back; run the command again");
        }
        if (current == Phase.CAPTURING) {
          if (Replication.removeFromPublication(c, settings.publication(), table)) {
            notes.add("removed " + table.display() + " from publication " + settings.publication());
          }
        }
        ControlSchema.record(
            c,
            table,
            current,
            to,
            locked.get().mapping(),
            options.actor(),
            JSON.createArrayNode(),
            options.reason());
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
      notes.addAll(
          PhaseStep.entering(current).rollbackNotes(new RollbackContext(c, settings, table)));
      return new Transition(table, current, to, true, false, options.reason(), List.of(), notes);
    } catch (SQLException e) {
      throw Db.failure("cannot roll back " + table.display(), e);
    }
  }

  /**
   * Moves the table to {@code target}, the phase after its current one, behind the gates of
   * entering it; in {@code capturing}, capture re-applies its setup without logging.
   */
  public Transition move(TableName table, Phase target, TransitionOptions options) {
    Objects.requireNonNull(options, "options");
    try (Connection c = Db.connect(settings)) {
      Db.requireTable(c, table);
      Optional<ControlSchema.State> state = ControlSchema.state(c, table, false);
      TableInfo info = MappingResolver.tableInfo(c, settings, state, table);
      Phase current = state.map(ControlSchema.State::phase).orElse(Phase.ANALYZED);
      if (current == target && target != Phase.CAPTURING) {
        return new Transition(
            table,
            current,
            target,
            true,
            false,
            null,
            List.of(),
            List.of(table.display() + " is already in phase " + target.id()));
      }
      boolean reapply = current == target;
      if (!reapply && current.next().orElse(null) != target) {
        Phase needed = target.previous().orElseThrow();
        throw new MigrationException(
            MigrationException.Kind.CHECK_FAILED,
            table.display()
                + " is in phase "
                + current.id()
                + "; `"
                + command(target)
                + "` needs phase "
                + needed.id()
                + (target.compareTo(current) > 0
                    ? " (run `unpoll " + command(needed) + "` first)"
                    : " (use `unpoll rollback` to go back)"),
            null);
      }
      Mapping mapping = MappingResolver.resolve(settings, state, info, options.topic());
      String group =
          options.consumerGroup() != null
              ? options.consumerGroup()
              : MappingResolver.recordedGroup(state).orElse(null);
      PhaseStep step = PhaseStep.entering(target);
      if (step.needsConsumerGroup()) {
        requireGroup(group, target);
      }
      List<Gate> gates =
          step.gates(new GateContext(c, settings, info, mapping, options, group, current));
      List<String> notes = new ArrayList<>();
      boolean passed = gates.stream().allMatch(Gate::passed);
      if (!passed && !options.force()) {
        return new Transition(table, current, target, false, false, null, gates, notes);
      }
      boolean forced = !passed;
      ObjectNode recorded = mapping.node().deepCopy();
      if (group != null) {
        recorded.put(MappingResolver.CONSUMER_GROUP_KEY, group);
      }
      boolean slotCreated = false;
      boolean addedToPublication = false;
      if (target == Phase.CAPTURING) {
        // Order matters, and each step is committed before the next one starts. pgoutput reads
        // the publication as of each decoded transaction: a slot created before its publication
        // cannot decode at all ("publication does not exist"), and a transaction decoded before
        // ADD TABLE committed is not published. So: membership first, then the slot, then the
        // window start (the log entry below, in a transaction that begins after both), so that
        // every row committed after the window start is in the slot's stream.
        ControlSchema.ensure(c);
        c.setAutoCommit(false);
        try {
          addedToPublication = !Replication.inPublication(c, settings.publication(), table);
          notes.add(Replication.addToPublication(c, settings.publication(), table));
          c.commit();
        } catch (SQLException | RuntimeException e) {
          c.rollback();
          throw e;
        } finally {
          c.setAutoCommit(true);
        }
        try {
          if (options.createSlot() && Replication.slot(c, settings.slot()).isEmpty()) {
            Replication.createSlot(c, settings.slot());
            slotCreated = true;
            notes.add(
                "created replication slot "
                    + settings.slot()
                    + " (pgoutput): WAL from now on is"
                    + " kept for the relay, so no row is lost before it starts");
          }
        } catch (SQLException | RuntimeException e) {
          undoCapture(c, table, addedToPublication, false);
          throw e;
        }
      }
      c.setAutoCommit(false);
      try {
        Optional<ControlSchema.State> locked =
            target == Phase.CAPTURING && !reapply
                ? Optional.empty()
                : ControlSchema.state(c, table, true);
        Phase now = locked.map(ControlSchema.State::phase).orElse(Phase.ANALYZED);
        if (now != current) {
          throw new MigrationException(
              table.display() + " changed phase to " + now.id() + " meanwhile; run again");
        }
        if (target == Phase.CAPTURING
            && info.primaryKey().isEmpty()
            && info.replicaIdentity().equals("default")) {
          notes.add("REPLICA IDENTITY is default without a primary key: UPDATE/DELETE will fail");
        }
        if (!reapply) {
          // The log entry's time is this transaction's start: the window start of verify and
          // the gates. For capture it begins after the membership and the slot are in place.
          ControlSchema.record(
              c,
              table,
              current,
              target,
              recorded,
              options.actor(),
              gatesJson(gates),
              options.reason());
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        c.setAutoCommit(true);
        if (target == Phase.CAPTURING) {
          undoCapture(c, table, addedToPublication, slotCreated);
        }
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
      if (target == Phase.CAPTURING) {
        if (!slotCreated) {
          notes.add(
              Replication.slot(c, settings.slot()).isPresent()
                  ? "replication slot " + settings.slot() + " exists"
                  : "replication slot "
                      + settings.slot()
                      + " is created by the relay on its first start: rows committed before then"
                      + " reach Kafka only through the backlog snapshot (pending rows)");
        }
        if (mapping.statusColumn() == null || mapping.done().isEmpty()) {
          notes.add(
              "the mapping names no status column or no done values: verify and the gates cannot"
                  + " tell which rows the poller handled; set status.column/pending/done");
        }
        notes.add(
            "start (or restart) the relay with this table's mapping; topic " + mapping.topic());
        if (reapply) {
          notes.add("already capturing: setup re-applied, no transition logged");
        }
      }
      notes.addAll(step.nextSteps(table));
      return new Transition(table, current, target, true, forced, options.reason(), gates, notes);
    } catch (SQLException e) {
      throw Db.failure("cannot move " + table.display() + " to " + target.id(), e);
    }
  }

  /** Undoes what a failed capture set up: the slot it created, the membership it added. */
  private void undoCapture(
      Connection c, TableName table, boolean addedToPublication, boolean slotCreated)
      throws SQLException {
    if (slotCreated) {
      Replication.dropSlot(c, settings.slot());
    }
    if (addedToPublication) {
      Replication.removeFromPublication(c, settings.publication(), table);
    }
  }

  /** The {@code unpoll} command that enters {@code p}. */
  static String command(Phase p) {
    switch (p) {
      case CAPTURING:
        return "capture";
      case RETIRED:
        return "retire";
      default:
        return p.id();
    }
  }

  private static void requireGroup(String group, Phase target) {
    if (group == null) {
      throw MigrationException.usage(
          "`unpoll "
              + command(target)
              + "` needs --group <consumer-group>: the new consumer's"
              + " group, whose ledger and processed keys the gates compare");
    }
  }

  private static ArrayNode gatesJson(List<Gate> gates) {
    ArrayNode a = JSON.createArrayNode();
    for (Gate g : gates) {
      ObjectNode n = a.addObject();
      n.put("name", g.name());
      n.put("passed", g.passed());
      n.put("detail", g.detail());
      n.set("figures", JSON.valueToTree(g.figures()));
    }
    return a;
  }
}
