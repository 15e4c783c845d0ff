package dev.unpoll.migration;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.internal.ControlSchema;
import dev.unpoll.migration.internal.Db;
import dev.unpoll.migration.internal.Durations;
import dev.unpoll.migration.internal.Mapping;
import dev.unpoll.migration.internal.MappingResolver;
import dev.unpoll.migration.internal.Names;
import dev.unpoll.migration.internal.Replication;
import dev.unpoll.migration.internal.Settings;
import dev.unpoll.migration.internal.TableInfo;
import dev.unpoll.migration.internal.Verifier;
import dev.unpoll.migration.internal.VerifyReport;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The per-table phase machine, as plain methods: what the {@code capture}, {@code shadow}, {@code
 * dual}, {@code cutover}, {@code retire} and {@code rollback} commands call, and what a demo or a
 * test drives directly. State lives in the database's {@code unpoll} schema; every applied
 * transition is logged with its gate results, actor and reason. Tables are the relay's {@link
 * TableName}.
 *
 * <pre>{@code
 * Migrations m = Migrations.builder().jdbcUrl(url).user("app").password(pw)
 *     .kafkaBootstrap("localhost:9092").configFile(Path.of("unpoll.yaml")).build();
 * Transition t = m.capture(TableName.parse("public.order_integration"), TransitionOptions.defaults());
 * }</pre>
 */
public final class Migrations {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Settings settings;

  private Migrations(Settings settings) {
    this.settings = settings;
  }

  /** A builder; connection settings as the command-line options. */
  public static Builder builder() {
    return new Builder();
  }

  /** The table's current phase ({@link Phase#ANALYZED} when unpoll has not captured it). */
  public Phase phase(TableName table) {
    try (Connection c = Db.connect(settings)) {
      return ControlSchema.state(c, table, false)
          .map(ControlSchema.State::phase)
          .orElse(Phase.ANALYZED);
    } catch (SQLException e) {
      throw Db.failure("cannot read the phase of " + table.display(), e);
    }
  }

  /**
   * Starts capture: control schema, heartbeat table, publication membership and (by default) the
   * replication slot, behind the prerequisite gates. Run again in {@code capturing}, it re-applies
   * the setup without logging a transition.
   */
  public Transition capture(TableName table, TransitionOptions options) {
    return move(table, Phase.CAPTURING, options);
  }

  /** Moves the table forward to {@code target}, the phase after its current one. */
  public Transition advance(TableName table, Phase target, TransitionOptions options) {
    return move(table, target, options);
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
      notes.addAll(rollbackNotes(c, table, current));
      return new Transition(table, current, to, true, false, options.reason(), List.of(), notes);
    } catch (SQLException e) {
      throw Db.failure("cannot roll back " + table.display(), e);
    }
  }

  /**
   * The reconciliation of {@code unpoll verify}: rows created in the window (from {@code
   * options.window()} ago, never before capture, until {@code options.settle()} ago) against the
   * topic's events and the consumer's records of {@code options.consumerGroup()} (default: the
   * group recorded at shadow; none: the consumer side is not compared).
   */
  public Reconciliation verify(TableName table, TransitionOptions options) {
    Objects.requireNonNull(options, "options");
    try (Connection c = Db.connect(settings)) {
      return Verifier.verify(c, settings, table, options, Progress.NONE).reconciliation(table);
    } catch (SQLException e) {
      throw Db.failure("cannot verify " + table.display(), e);
    }
  }

  private List<String> rollbackNotes(Connection c, TableName table, Phase from)
      throws SQLException {
    List<String> notes = new ArrayList<>();
    switch (from) {
      case CAPTURING:
        // The slot serves the publication: keep it while the publication still has tables.
        boolean others =
            Replication.number(
                    c,
                    "SELECT count(*) FROM pg_publication_tables WHERE pubname = ?"
                        + " AND NOT (schemaname = ? AND tablename = ?)",
                    settings.publication(),
                    ControlSchema.HEARTBEAT.schema(),
                    ControlSchema.HEARTBEAT.table())
                > 0;
        Optional<Replication.Slot> slot = Replication.slot(c, settings.slot());
        if (slot.isPresent() && !others && !slot.get().active()) {
          Replication.dropSlot(c, settings.slot());
          notes.add(
              "dropped replication slot "
                  + settings.slot()
                  + " (publication "
                  + settings.publication()
                  + " has no other table and no relay is connected to the slot)");
        } else if (slot.isPresent()) {
          notes.add(
              "replication slot "
                  + settings.slot()
                  + " kept ("
                  + (slot.get().active()
                      ? "a relay is using it"
                      : "publication " + settings.publication() + " still has other tables")
                  + ")");
        }
        notes.add("the relay no longer publishes new rows of " + table.display());
        break;
      case SHADOW:
        notes.add("stop the shadow consumer; the poller never stopped");
        break;
      case DUAL:
        notes.add(
            "switch the consumer back to shadow mode (record only, no side effects); the poller"
                + " handles every row again");
        break;
      case CUTOVER:
        notes.add("start the poller again; poller and consumer claim rows as in dual");
        break;
      case RETIRED:
        notes.add("restore the bookkeeping columns and cleanup job if they were removed");
        break;
      default:
        break;
    }
    return notes;
  }

  private Transition move(TableName table, Phase target, TransitionOptions options) {
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
      List<Gate> gates = new ArrayList<>();
      List<String> notes = new ArrayList<>();
      switch (target) {
        case CAPTURING:
          gates.addAll(captureGates(c, info, options));
          break;
        case SHADOW:
          requireGroup(group, target);
          gates.add(eventsGate(verify(c, info, mapping, options, group, current), slotState(c)));
          break;
        case DUAL:
          {
            requireGroup(group, target);
            VerifyReport r = verify(c, info, mapping, options, group, current);
            gates.add(eventsGate(r, slotState(c)));
            gates.add(ledgerGate(r));
            gates.add(latencyGate(r));
            break;
          }
        case CUTOVER:
          {
            requireGroup(group, target);
            VerifyReport r = verify(c, info, mapping, options, group, current);
            gates.add(eventsGate(r, slotState(c)));
            gates.add(
                gate(
                    "no-poller-claims",
                    r.pollerHandled() == 0,
                    r.pollerHandled() == 0
                        ? "the consumer handled every row in the window"
                        : r.pollerHandled()
                            + " row(s) in the window were handled by the poller: stop the poller"
                            + " and wait one window",
                    Map.of("pollerHandled", r.pollerHandled(), "rows", r.rows())));
            gates.add(
                gate(
                    "backlog-empty",
                    r.backlog() == 0,
                    r.backlog() < 0
                        ? "backlog not measurable: the mapping has no status column or no"
                            + " pending and done values (set status.pending and status.done)"
                        : r.backlog() == 0
                            ? "every row older than the settle time is in a done state"
                            : r.backlog()
                                + " row(s) older than the settle time are not in a done state"
                                + " (pending, in progress or failed): "
                                + r.backlogKeys()
                                + (r.backlog() > r.backlogKeys().size() ? "…" : "")
                                + "; wait for them to be handled, or reset rows the poller abandoned to pending",
                    Map.of("backlog", r.backlog(), "backlogKeys", r.backlogKeys())));
            gates.add(doubleGate(r));
            break;
          }
        case RETIRED:
          {
            requireGroup(group, target);
            Instant since = ControlSchema.entered(c, table, Phase.CUTOVER).orElse(Instant.now());
            Duration held = Duration.between(since, Db.now(c));
            boolean ok = held.compareTo(options.hold()) >= 0;
            gates.add(
                gate(
                    "cutover-held",
                    ok,
                    "cutover has held for "
                        + Durations.format(held)
                        + " of the agreed "
                        + Durations.format(options.hold())
                        + " (--hold)",
                    Map.of(
                        "heldSeconds",
                        held.toSeconds(),
                        "holdSeconds",
                        options.hold().toSeconds())));
            VerifyReport r = verify(c, info, mapping, options, group, Phase.CUTOVER);
            gates.add(eventsGate(r, slotState(c)));
            gates.add(
                gate(
                    "all-handled",
                    r.unhandled() == 0,
                    r.unhandled() + " row(s) older than the settle time were handled by nobody",
                    Map.of("unhandled", r.unhandled(), "unhandledKeys", sample(r))));
            gates.add(doubleGate(r));
            break;
          }
        default:
          throw new IllegalArgumentException("cannot move to " + target);
      }
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
      notes.addAll(nextSteps(target, table));
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

  private static List<String> nextSteps(Phase target, TableName t) {
    switch (target) {
      case SHADOW:
        return List.of(
            "start the consumer in shadow mode: it records events in unpoll_shadow_ledger only");
      case DUAL:
        return List.of(
            "switch the consumer to dual mode: it claims rows through the status column and"
                + " handles them; the poller keeps running");
      case CUTOVER:
        return List.of("the poller stays stopped; the consumer alone handles " + t.display());
      case RETIRED:
        return List.of(
            "the cleanup job and bookkeeping columns can go; the consumer dedupes with"
                + " unpoll_processed");
      default:
        return List.of();
    }
  }

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

  private VerifyReport verify(
      Connection c,
      TableInfo info,
      Mapping mapping,
      TransitionOptions options,
      String group,
      Phase phase)
      throws SQLException {
    Instant from = Verifier.windowStart(c, info.table(), options.window());
    return Verifier.run(
        c,
        settings,
        new Verifier.Request(info, mapping, from, options.settle(), group, phase),
        Progress.NONE);
  }

  private List<Gate> captureGates(Connection c, TableInfo info, TransitionOptions options)
      throws SQLException {
    List<Gate> gates = new ArrayList<>();
    String walLevel = Replication.setting(c, "wal_level");
    gates.add(
        gate(
            "wal-level",
            "logical".equals(walLevel),
            "wal_level is "
                + walLevel
                + ("logical".equals(walLevel)
                    ? ""
                    : ": run ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL"),
            Map.of("walLevel", walLevel)));
    String identity = info.replicaIdentity();
    boolean identityOk =
        identity.equals("full")
            || identity.equals("index")
            || (identity.equals("default") && !info.primaryKey().isEmpty());
    gates.add(
        gate(
            "replica-identity",
            identityOk,
            identityOk
                ? "replica identity "
                    + identity
                    + (info.primaryKey().isEmpty()
                        ? ""
                        : " (primary key " + info.primaryKey() + ")")
                : "replica identity "
                    + identity
                    + " without a primary key: UPDATE/DELETE of a"
                    + " published table would fail; add a primary key or run ALTER TABLE "
                    + info.table().quoted()
                    + " REPLICA IDENTITY FULL",
            Map.of("replicaIdentity", identity, "primaryKey", info.primaryKey())));
    boolean owner =
        Replication.test(
            c,
            "SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = ? AND c.relname = ?",
            info.table().schema(),
            info.table().table());
    boolean pubExists = Replication.publicationExists(c, settings.publication());
    boolean pubOwner =
        pubExists
            ? Replication.test(
                c,
                "SELECT pg_has_role(pubowner, 'USAGE') FROM pg_publication WHERE pubname = ?",
                settings.publication())
            : Replication.test(c, "SELECT has_database_privilege(current_database(), 'CREATE')");
    gates.add(
        gate(
            "publication-privilege",
            owner && pubOwner,
            owner && pubOwner
                ? "current user owns "
                    + info.table().display()
                    + " and can "
                    + (pubExists ? "alter" : "create")
                    + " publication "
                    + settings.publication()
                : "publication changes need ownership of the table (owner "
                    + info.owner()
                    + ")"
                    + (pubOwner
                        ? ""
                        : pubExists
                            ? " and of publication " + settings.publication()
                            : " and CREATE on the database")
                    + ": run capture as the owner, or GRANT "
                    + Names.quote(info.owner())
                    + " TO <user>",
            Map.of("tableOwner", info.owner(), "ownsTable", owner, "publicationOk", pubOwner)));
    boolean replication =
        Replication.test(
            c, "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user");
    gates.add(
        gate(
            "replication-privilege",
            replication,
            replication
                ? "current user may replicate"
                : "the relay's user needs REPLICATION: ALTER ROLE <user> REPLICATION;",
            Map.of("replication", replication)));
    Optional<Replication.Slot> slot = Replication.slot(c, settings.slot());
    if (slot.isEmpty()) {
      long max = Long.parseLong(Replication.setting(c, "max_replication_slots"));
      long used = Replication.number(c, "SELECT count(*) FROM pg_replication_slots");
      gates.add(
          gate(
              "free-slot",
              used < max,
              (max - used)
                  + " of "
                  + max
                  + " replication slots free"
                  + (used < max ? "" : ": raise max_replication_slots or drop an unused slot"),
              Map.of("maxReplicationSlots", max, "usedSlots", used)));
    } else {
      boolean ours = "pgoutput".equals(slot.get().plugin());
      gates.add(
          gate(
              "free-slot",
              ours,
              "slot "
                  + settings.slot()
                  + " exists with plugin "
                  + slot.get().plugin()
                  + (ours ? "" : ": the relay needs pgoutput; choose another source.slot"),
              Map.of("slot", settings.slot(), "plugin", String.valueOf(slot.get().plugin()))));
    }
    return gates;
  }

  /** The relay slot's state as gate figures say it: active, inactive or missing. */
  private String slotState(Connection c) throws SQLException {
    return Replication.slot(c, settings.slot())
        .map(sl -> sl.active() ? "active" : "inactive")
        .orElse("missing");
  }

  private Gate eventsGate(VerifyReport r, String slotState) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("rows", r.rows());
    f.put("missing", r.missingEvents());
    f.put("duplicated", r.duplicatedEvents());
    f.put("missingKeys", r.json().path("events").path("missingKeys"));
    String detail =
        r.missingEvents() == 0
            ? (r.rows() == 0
                ? "no rows in the window: nothing to compare"
                : "all " + r.rows() + " row(s) in the window have their event in the topic")
            : r.missingEvents()
                + " of "
                + r.rows()
                + " row(s) in the window have no event in the"
                + " topic: is the relay running and publishing this table?";
    if (!r.topicFound()) {
      detail =
          "topic "
              + r.json().path("topic").asText()
              + " does not exist (yet): is the relay"
              + " running and publishing this table? "
              + r.missingEvents()
              + " of "
              + r.rows()
              + " row(s) in the window have no event";
    }
    f.put("topicFound", r.topicFound());
    f.put("slot", settings.slot());
    f.put("slotState", slotState);
    boolean passed = r.topicFound() && r.missingEvents() == 0;
    if (!passed && !slotState.equals("active")) {
      detail +=
          " (replication slot " + settings.slot() + " is " + slotState + ": no relay reads it)";
    }
    return gate("events-complete", passed, detail, f);
  }

  private static Gate ledgerGate(VerifyReport r) {
    boolean found = r.json().path("handling").path("ledgerTableFound").asBoolean();
    boolean ok = found && r.missingInLedger() == 0;
    return gate(
        "ledger-matches",
        ok,
        !found
            ? "table unpoll_shadow_ledger not found: is the shadow consumer running?"
            : ok
                ? "every row the poller handled is in the shadow ledger"
                : r.missingInLedger()
                    + " of "
                    + r.pollerHandled()
                    + " row(s) the poller handled are missing from the shadow ledger",
        Map.of(
            "pollerHandled", r.pollerHandled(),
            "missingInLedger", r.missingInLedger(),
            "missingInLedgerKeys", r.json().path("handling").path("missingInLedgerKeys")));
  }

  private static Gate latencyGate(VerifyReport r) {
    ObjectNode l = (ObjectNode) r.json().get("latency");
    return gate(
        "latency",
        true,
        "poller p50 "
            + l.path("poller").path("p50Ms").asText()
            + " ms, event p50 "
            + l.path("event").path("p50Ms").asText()
            + " ms (informational)",
        Map.of("poller", l.path("poller"), "event", l.path("event")));
  }

  private static Gate doubleGate(VerifyReport r) {
    return gate(
        "no-double-handling",
        r.doubleHandled() == 0,
        r.doubleHandled() + " row(s) handled more than once by the consumer",
        Map.of(
            "doubleHandled", r.doubleHandled(),
            "doubleHandledKeys", r.json().path("handling").path("doubleHandledKeys")));
  }

  private static Object sample(VerifyReport r) {
    return r.json().path("handling").path("unhandledKeys");
  }

  private static Gate gate(String name, boolean ok, String detail, Map<String, Object> figures) {
    return new Gate(name, ok, detail, figures);
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

  /** Builds {@link Migrations}; {@link #build()} resolves the settings like the command line. */
  public static final class Builder {
    private String jdbcUrl;
    private String user;
    private String password;
    private String passwordEnv;
    private String kafkaBootstrap;
    private String slot;
    private String publication;
    private Path configFile;
    private Map<String, String> environment = System.getenv();

    private Builder() {}

    /** PostgreSQL JDBC URL. */
    public Builder jdbcUrl(String jdbcUrl) {
      this.jdbcUrl = jdbcUrl;
      return this;
    }

    /** Database user. */
    public Builder user(String user) {
      this.user = user;
      return this;
    }

    /** Database password (takes precedence over {@link #passwordEnv}). */
    public Builder password(String password) {
      this.password = password;
      return this;
    }

    /** Environment variable holding the password. */
    public Builder passwordEnv(String variable) {
      this.passwordEnv = variable;
      return this;
    }

    /** Kafka bootstrap servers. */
    public Builder kafkaBootstrap(String bootstrap) {
      this.kafkaBootstrap = bootstrap;
      return this;
    }

    /** Replication slot (overrides the file's {@code source.slot}). */
    public Builder slot(String slot) {
      this.slot = slot;
      return this;
    }

    /** Publication (overrides the file's {@code source.publication}). */
    public Builder publication(String publication) {
      this.publication = publication;
      return this;
    }

    /** The relay's configuration file. */
    public Builder configFile(Path file) {
      this.configFile = file;
      return this;
    }

    /** The environment for {@code ${NAME}} and password variables (default: the process's). */
    public Builder environment(Map<String, String> environment) {
      this.environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
      return this;
    }

    /** Resolves the settings; problems are {@link MigrationException}s naming the option. */
    public Migrations build() {
      Settings.Given o = new Settings.Given(jdbcUrl, user, passwordEnv, kafkaBootstrap, configFile);
      Settings s = Settings.resolve(o, slot, publication, environment);
      if (password != null) {
        s = s.withPassword(password);
      }
      s.requireJdbcUrl();
      return new Migrations(s);
    }
  }
}
