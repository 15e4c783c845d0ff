package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.migration.DoctorReport;
import dev.unpoll.migration.DoctorReport.Check;
import dev.unpoll.migration.DoctorReport.Status;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.Sizes;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The checks of {@code unpoll doctor}: the change-data-capture prerequisites, with their fixes. */
public final class Doctor {
  /** Retained WAL above which an inactive slot is flagged as a failure rather than a warning. */
  public static final long INACTIVE_SLOT_FAIL_BYTES = 1L << 30;

  private Doctor() {}

  /**
   * Checks the server, {@code tables} and the tables of the configuration file, and Kafka when its
   * bootstrap servers are configured.
   */
  public static DoctorReport run(Settings s, List<TableName> tables) {
    Set<TableName> toCheck = new LinkedHashSet<>(tables);
    s.config()
        .ifPresent(
            f -> {
              for (TableMapping t : f.tables()) {
                toCheck.add(t.table());
              }
            });
    List<Check> checks;
    try (Connection c = Db.connect(s)) {
      checks = run(c, s, toCheck);
    } catch (SQLException e) {
      throw Db.failure("doctor could not read the server's settings", e);
    }
    if (s.kafkaBootstrap() != null) {
      try {
        int brokers = Kafka.brokers(s);
        checks.add(
            new Check(
                "kafka",
                Status.PASS,
                brokers + " broker(s) answer at " + s.kafkaBootstrap(),
                null));
      } catch (MigrationException e) {
        checks.add(
            new Check(
                "kafka",
                Status.FAIL,
                e.getMessage(),
                "check --kafka / kafka.bootstrap-servers and kafka.properties (TLS, SASL)"));
      }
    }
    return new DoctorReport(checks);
  }

  static List<Check> run(Connection c, Settings s, Set<TableName> tables) throws SQLException {
    List<Check> out = new ArrayList<>();
    int version = Integer.parseInt(Replication.setting(c, "server_version_num"));
    String versionText = Replication.setting(c, "server_version");
    if (version < 100000) {
      out.add(
          new Check(
              "postgresql-version",
              Status.FAIL,
              "PostgreSQL " + versionText + ": pgoutput needs 10 or newer",
              "upgrade PostgreSQL"));
    } else if (version < 170000) {
      out.add(
          new Check(
              "postgresql-version",
              Status.WARN,
              "PostgreSQL "
                  + versionText
                  + ": slots do not survive a failover to a replica"
                  + " (failover slots need 17)",
              "after a failover, recreate the slot and re-snapshot; or upgrade to 17"));
    } else {
      out.add(
          new Check(
              "postgresql-version",
              Status.PASS,
              "PostgreSQL " + versionText + " (failover slots available)",
              null));
    }
    String wal = Replication.setting(c, "wal_level");
    out.add(
        "logical".equals(wal)
            ? new Check("wal_level", Status.PASS, "wal_level = logical", null)
            : new Check(
                "wal_level",
                Status.FAIL,
                "wal_level = " + wal + " (logical decoding needs logical)",
                "ALTER SYSTEM SET wal_level = logical; -- then restart PostgreSQL"));
    List<Replication.Slot> slots = Replication.slots(c);
    long maxSlots = Long.parseLong(Replication.setting(c, "max_replication_slots"));
    boolean ownSlot = s.hasSlot() && slots.stream().anyMatch(sl -> sl.name().equals(s.slot()));
    long freeSlots = maxSlots - slots.size();
    out.add(
        freeSlots > 0 || ownSlot
            ? new Check(
                "replication-slots",
                Status.PASS,
                freeSlots
                    + " of "
                    + maxSlots
                    + " slots free"
                    + (ownSlot ? "; slot " + s.slot() + " exists" : ""),
                null)
            : new Check(
                "replication-slots",
                Status.FAIL,
                "no free replication slot (" + maxSlots + " used)",
                "ALTER SYSTEM SET max_replication_slots = "
                    + (maxSlots + 4)
                    + "; -- restart; or drop an unused slot"));
    long maxSenders = Long.parseLong(Replication.setting(c, "max_wal_senders"));
    long senders =
        Replication.number(
            c, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'");
    out.add(
        senders < maxSenders
            ? new Check(
                "wal-senders",
                Status.PASS,
                (maxSenders - senders) + " of " + maxSenders + " WAL senders free",
                null)
            : new Check(
                "wal-senders",
                Status.FAIL,
                "all " + maxSenders + " WAL senders in use",
                "ALTER SYSTEM SET max_wal_senders = " + (maxSenders + 4) + "; -- restart"));
    boolean replication = Replication.mayReplicate(c);
    String user = s.user() == null ? "current_user" : Names.quote(s.user());
    out.add(
        replication
            ? new Check("replication-privilege", Status.PASS, "the user may replicate", null)
            : new Check(
                "replication-privilege",
                Status.FAIL,
                "the user lacks the REPLICATION attribute the relay needs",
                "ALTER ROLE "
                    + user
                    + " REPLICATION; (on Amazon RDS and Aurora: GRANT rds_replication TO "
                    + user
                    + ";)"));
    if (Replication.test(c, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
      out.add(
          new Check(
              "least-privilege",
              Status.WARN,
              "the relay runs as a superuser (a leaked password or a bug can do anything)",
              "unpoll grants --config unpoll.yaml prints a least-privilege role; run it as a"
                  + " superuser and set source.user to it (docs/security.md)"));
    }
    String keep = Replication.setting(c, "max_slot_wal_keep_size");
    out.add(
        keep == null || keep.equals("-1")
            ? new Check(
                "max_slot_wal_keep_size",
                Status.WARN,
                "unlimited: a stopped relay's slot keeps WAL until the disk is full",
                "ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; SELECT pg_reload_conf();")
            : new Check(
                "max_slot_wal_keep_size",
                Status.PASS,
                "max_slot_wal_keep_size = "
                    + keep
                    + " (a slot past it is invalidated: the relay"
                    + " then stops and the table needs a new capture)",
                null));
    for (Replication.Slot sl : slots) {
      String retained = Sizes.bytes(sl.retainedBytes());
      String what =
          "slot "
              + sl.name()
              + " ("
              + sl.plugin()
              + ", db "
              + sl.database()
              + ") "
              + (sl.active() ? "active" : "inactive")
              + ", retains "
              + retained
              + (sl.walStatus() == null ? "" : ", wal_status " + sl.walStatus());
      String drop = "SELECT pg_drop_replication_slot('" + sl.name().replace("'", "''") + "');";
      if ("lost".equals(sl.walStatus())) {
        out.add(
            new Check(
                "slot",
                Status.FAIL,
                what + ": invalidated, its WAL is gone",
                drop + " -- then capture again"));
      } else if (!sl.active()) {
        boolean big = sl.retainedBytes() != null && sl.retainedBytes() > INACTIVE_SLOT_FAIL_BYTES;
        out.add(
            new Check(
                "slot",
                big ? Status.FAIL : Status.WARN,
                what + ": no client reads it, WAL accumulates",
                "start its relay, or if unused: " + drop));
      } else {
        out.add(new Check("slot", Status.PASS, what, null));
      }
    }
    if (s.hasSlot() && !ownSlot) {
      // "no slot" is a question: a relay with offsets for it lost the slot (dropped, or a restore
      // or failover that did not carry it), and what was committed since its last offset with it
      List<TableName> offsets = Replication.relayOffsetTables(c, s.slot());
      if (!offsets.isEmpty()) {
        out.add(
            new Check(
                "slot",
                Status.FAIL,
                "slot "
                    + s.slot()
                    + " does not exist, but the relay's offsets "
                    + offsets.get(0).dotted()
                    + " point into it: the slot was dropped (or not carried over by a restore or"
                    + " failover), so changes since the relay's last offset are no longer in WAL it"
                    + " can read; the relay refuses to start",
                "reconcile the gap (unpoll verify), then either start the relay with a new"
                    + " source.slot (optionally with backlog: true) or accept the gap: DROP TABLE "
                    + offsets.get(0).quoted()));
      }
    }
    boolean createDb =
        Replication.test(c, "SELECT has_database_privilege(current_database(), 'CREATE')");
    if (!(s.hasPublication() && Replication.publicationExists(c, s.publication())) && !createDb) {
      out.add(
          new Check(
              "publication",
              Status.FAIL,
              (s.hasPublication()
                      ? "publication " + s.publication() + " does not exist and"
                      : "no publication named, and")
                  + " the user cannot create it",
              "GRANT CREATE ON DATABASE <db> TO " + user + ";"));
    }
    for (TableName t : tables) {
      if (!Db.tableExists(c, t)) {
        out.add(
            new Check(
                "table " + t.display(), Status.FAIL, "table does not exist", "check the name"));
        continue;
      }
      boolean owns =
          Replication.test(
              c,
              "SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c"
                  + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                  + " WHERE n.nspname = ? AND c.relname = ?",
              t.schema(),
              t.table());
      String owner =
          textQuery(
              c,
              "SELECT pg_get_userbyid(c.relowner) FROM pg_class c"
                  + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                  + " WHERE n.nspname = ? AND c.relname = ?",
              t.schema(),
              t.table());
      out.add(
          owns
              ? new Check("ownership " + t.display(), Status.PASS, "the user owns the table", null)
              : new Check(
                  "ownership " + t.display(),
                  Status.FAIL,
                  "adding the table to a publication needs its owner (" + owner + ")",
                  "GRANT " + Names.quote(owner) + " TO " + user + ";"));
      String ident =
          textQuery(
              c,
              "SELECT c.relreplident::text FROM pg_class c"
                  + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                  + " WHERE n.nspname = ? AND c.relname = ?",
              t.schema(),
              t.table());
      boolean pk =
          Replication.test(
              c,
              "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                  + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                  + " WHERE n.nspname = ? AND c.relname = ? AND i.indisprimary)",
              t.schema(),
              t.table());
      String name = "replica-identity " + t.display();
      if ("f".equals(ident) || "i".equals(ident)) {
        out.add(
            new Check(
                name,
                "f".equals(ident) ? Status.WARN : Status.PASS,
                "REPLICA IDENTITY "
                    + ("f".equals(ident) ? "FULL (whole old rows in WAL)" : "USING INDEX"),
                null));
      } else if ("d".equals(ident) && pk) {
        out.add(new Check(name, Status.PASS, "REPLICA IDENTITY DEFAULT with a primary key", null));
      } else {
        out.add(
            new Check(
                name,
                Status.FAIL,
                "no usable replica identity: UPDATE/DELETE fail once the table is published",
                "ALTER TABLE "
                    + t.quoted()
                    + " ADD PRIMARY KEY (...); -- or: ALTER TABLE "
                    + t.quoted()
                    + " REPLICA IDENTITY FULL;"));
      }
    }
    return out;
  }

  private static String textQuery(Connection c, String sql, String... params) throws SQLException {
    try (var ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setString(i + 1, params[i]);
      }
      try (var rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }
}
