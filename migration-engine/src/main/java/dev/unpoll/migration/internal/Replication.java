package dev.unpoll.migration.internal;

import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Slots, publications and server settings that change data capture depends on. */
public final class Replication {
  private Replication() {}

  /** One replication slot with the WAL it holds back. */
  public record Slot(
      String name,
      String plugin,
      String type,
      String database,
      boolean active,
      Long retainedBytes,
      Long lagBytes,
      String walStatus) {}

  /**
   * Whether the current user may open a replication connection: the {@code REPLICATION} attribute,
   * a superuser, or, on Amazon RDS and Aurora, where neither can be granted, membership of the
   * {@code rds_replication} role (no such role elsewhere: false).
   */
  public static boolean mayReplicate(Connection c) throws SQLException {
    return test(
        c,
        "SELECT rolreplication OR rolsuper OR COALESCE(pg_has_role(current_user,"
            + " (SELECT oid FROM pg_roles WHERE rolname = 'rds_replication'), 'MEMBER'), false)"
            + " FROM pg_roles WHERE rolname = current_user");
  }

  /** All slots of the server. */
  public static List<Slot> slots(Connection c) throws SQLException {
    List<Slot> list = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT slot_name, plugin, slot_type, database, active,"
                    + " pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint,"
                    + " pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint,"
                    + " wal_status FROM pg_replication_slots ORDER BY slot_name");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        list.add(
            new Slot(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getBoolean(5),
                (Long) rs.getObject(6),
                (Long) rs.getObject(7),
                rs.getString(8)));
      }
    }
    return list;
  }

  /** The slot named {@code name}, if it exists. */
  public static Optional<Slot> slot(Connection c, String name) throws SQLException {
    return slots(c).stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** A server setting ({@code SHOW}-style), by name. */
  public static String setting(Connection c, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT current_setting(?, true)")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  /** One boolean query with string parameters. */
  public static boolean test(Connection c, String sql, String... params) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setString(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  /** One long query with string parameters. */
  public static long number(Connection c, String sql, String... params) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setString(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Whether the publication exists. */
  public static boolean publicationExists(Connection c, String publication) throws SQLException {
    return test(c, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ?)", publication);
  }

  /** Whether {@code t} is in the publication. */
  public static boolean inPublication(Connection c, String publication, TableName t)
      throws SQLException {
    return test(
        c,
        "SELECT EXISTS (SELECT 1 FROM pg_publication_tables"
            + " WHERE pubname = ? AND schemaname = ? AND tablename = ?)",
        publication,
        t.schema(),
        t.table());
  }

  /** Adds {@code t} to the publication, creating it (with the heartbeat table) if needed. */
  public static String addToPublication(Connection c, String publication, TableName t)
      throws SQLException {
    String pub = Names.quote(publication);
    try (Statement s = c.createStatement()) {
      if (!publicationExists(c, publication)) {
        s.execute(
            "CREATE PUBLICATION "
                + pub
                + " FOR TABLE "
                + ControlSchema.HEARTBEAT.quoted()
                + ", "
                + t.quoted());
        return "created publication "
            + publication
            + " for "
            + ControlSchema.HEARTBEAT.display()
            + " and "
            + t.display();
      }
      StringBuilder done = new StringBuilder();
      if (!inPublication(c, publication, ControlSchema.HEARTBEAT)) {
        s.execute("ALTER PUBLICATION " + pub + " ADD TABLE " + ControlSchema.HEARTBEAT.quoted());
      }
      if (!inPublication(c, publication, t)) {
        s.execute("ALTER PUBLICATION " + pub + " ADD TABLE " + t.quoted());
        done.append("added ").append(t.display()).append(" to publication ").append(publication);
      } else {
        done.append(t.display()).append(" already in publication ").append(publication);
      }
      return done.toString();
    }
  }

  /** Removes {@code t} from the publication if it is a member. */
  public static boolean removeFromPublication(Connection c, String publication, TableName t)
      throws SQLException {
    if (!publicationExists(c, publication) || !inPublication(c, publication, t)) {
      return false;
    }
    try (Statement s = c.createStatement()) {
      s.execute("ALTER PUBLICATION " + Names.quote(publication) + " DROP TABLE " + t.quoted());
    }
    return true;
  }

  /** Creates a logical slot with pgoutput (must run outside a transaction that wrote). */
  public static void createSlot(Connection c, String slot) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'pgoutput')")) {
      ps.setString(1, slot);
      ps.execute();
    }
  }

  /** Drops a slot. */
  /**
   * Drops what the relay kept about {@code slot} (its offsets table and its backlog ledger, in
   * whichever schema the relay's user created them): positions in a slot that no longer exists. A
   * relay started on them after a new capture would take the new slot for a gap in its stream.
   *
   * @return one note per table dropped, or per table that could not be dropped (and how to)
   */
  /**
   * The tables called {@code name}, in any schema (the relay keeps its own where it may create).
   */
  private static List<TableName> tablesNamed(Connection c, String name) throws SQLException {
    List<TableName> found = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid ="
                + " c.relnamespace WHERE c.relname = ? AND c.relkind = 'r'")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.add(new TableName(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return found;
  }

  /** The relay's offsets tables for {@code slot} (any schema) that hold at least one offset. */
  public static List<TableName> relayOffsetTables(Connection c, String slot) throws SQLException {
    List<TableName> withOffsets = new ArrayList<>();
    for (TableName t : tablesNamed(c, RelayNames.offsetsTable(slot))) {
      Savepoint sp = c.getAutoCommit() ? null : c.setSavepoint();
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT FROM " + t.quoted() + ")")) {
        if (rs.next() && rs.getBoolean(1)) {
          withOffsets.add(t);
        }
      } catch (SQLException e) {
        if (sp != null) {
          c.rollback(sp);
        }
        withOffsets.add(t); // unreadable: count it, the relay's own start will tell
      }
    }
    return withOffsets;
  }

  public static List<String> dropRelayState(Connection c, String slot) throws SQLException {
    List<String> notes = new ArrayList<>();
    for (String name : List.of(RelayNames.offsetsTable(slot), RelayNames.backlogTable(slot))) {
      for (TableName t : tablesNamed(c, name)) {
        Savepoint sp = c.getAutoCommit() ? null : c.setSavepoint();
        try (Statement s = c.createStatement()) {
          s.execute("DROP TABLE " + t.quoted());
          notes.add(
              "dropped the relay's "
                  + (name.equals(RelayNames.offsetsTable(slot)) ? "offsets" : "backlog ledger")
                  + " "
                  + t.dotted()
                  + " (it pointed into the dropped slot)");
        } catch (SQLException e) {
          if (sp != null) {
            c.rollback(sp);
          }
          notes.add(
              "could not drop the relay's "
                  + t.dotted()
                  + " ("
                  + e.getMessage()
                  + "): drop it before the relay starts again, or the relay will refuse the new"
                  + " slot as a gap");
        }
      }
    }
    return notes;
  }

  public static void dropSlot(Connection c, String slot) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
      ps.setString(1, slot);
      ps.execute();
    }
  }
}
