package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.GateFigures;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * analyzed → capturing: wal_level, replica identity, publication and replication privileges, a free
 * slot. The setup itself (publication, slot) is {@link PhaseMachine}'s, in its careful order.
 */
final class CaptureStep implements PhaseStep {
  @Override
  public boolean needsConsumerGroup() {
    return false;
  }

  @Override
  public List<Gate> gates(GateContext ctx) throws SQLException {
    Connection c = ctx.connection();
    TableInfo info = ctx.info();
    Settings settings = ctx.settings();
    List<Gate> gates = new ArrayList<>();
    String walLevel = Replication.setting(c, "wal_level");
    gates.add(
        new Gate(
            "wal-level",
            "logical".equals(walLevel),
            "wal_level is "
                + walLevel
                + ("logical".equals(walLevel)
                    ? ""
                    : ": run ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL"),
            new GateFigures.WalLevel(walLevel)));
    String identity = info.replicaIdentity();
    boolean identityOk =
        identity.equals("full")
            || identity.equals("index")
            || (identity.equals("default") && !info.primaryKey().isEmpty());
    gates.add(
        new Gate(
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
            new GateFigures.ReplicaIdentity(identity, info.primaryKey())));
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
        new Gate(
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
            new GateFigures.PublicationPrivilege(info.owner(), owner, pubOwner)));
    boolean replication = Replication.mayReplicate(c);
    gates.add(
        new Gate(
            "replication-privilege",
            replication,
            replication
                ? "current user may replicate"
                : "the relay's user needs REPLICATION: ALTER ROLE <user> REPLICATION; (on"
                    + " Amazon RDS and Aurora: GRANT rds_replication TO <user>;)",
            new GateFigures.ReplicationPrivilege(replication)));
    Optional<Replication.Slot> slot = Replication.slot(c, settings.slot());
    if (slot.isEmpty()) {
      long max = Long.parseLong(Replication.setting(c, "max_replication_slots"));
      long used = Replication.number(c, "SELECT count(*) FROM pg_replication_slots");
      gates.add(
          new Gate(
              "free-slot",
              used < max,
              (max - used)
                  + " of "
                  + max
                  + " replication slots free"
                  + (used < max ? "" : ": raise max_replication_slots or drop an unused slot"),
              new GateFigures.FreeSlots(max, used)));
    } else {
      boolean ours = "pgoutput".equals(slot.get().plugin());
      gates.add(
          new Gate(
              "free-slot",
              ours,
              "slot "
                  + settings.slot()
                  + " exists with plugin "
                  + slot.get().plugin()
                  + (ours ? "" : ": the relay needs pgoutput; choose another source.slot"),
              new GateFigures.ExistingSlot(settings.slot(), String.valueOf(slot.get().plugin()))));
    }
    return gates;
  }

  @Override
  public List<String> nextSteps(TableName table) {
    return List.of();
  }

  @Override
  public List<String> rollbackNotes(RollbackContext ctx) throws SQLException {
    Connection c = ctx.connection();
    Settings settings = ctx.settings();
    List<String> notes = new ArrayList<>();
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
      notes.addAll(Replication.dropRelayState(c, settings.slot()));
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
    notes.add("the relay no longer publishes new rows of " + ctx.table().display());
    return notes;
  }
}
