package dev.unpoll.outbox.internal;

import dev.unpoll.outbox.OutboxColumn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Compares the database with what the writer needs and names every difference. */
public final class SchemaChecker {
  private static final Set<String> TEXT_TYPES = Set.of("character varying", "text");

  private SchemaChecker() {}

  /** Problems of strategy TABLE: missing table or columns, wrong types, missing privileges. */
  public static List<String> checkTable(
      Connection c,
      String schema,
      String table,
      EnumMap<OutboxColumn, String> columns,
      boolean deleteAfterInsert)
      throws SQLException {
    List<String> problems = new ArrayList<>();
    String where = schema + "." + table;
    Map<String, String[]> actual = new LinkedHashMap<>(); // name -> {data_type, nullable, default}
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT column_name, data_type, is_nullable, column_default"
                + " FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
                + " ORDER BY ordinal_position")) {
      ps.setString(1, schema);
      ps.setString(2, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          actual.put(
              rs.getString(1), new String[] {rs.getString(2), rs.getString(3), rs.getString(4)});
        }
      }
    }
    if (actual.isEmpty()) {
      problems.add(
          "table "
              + where
              + " does not exist (or is not visible to user "
              + currentUser(c)
              + "): create it with Outbox.ddl() or the resource "
              + OutboxDdl.RESOURCE);
      return problems;
    }
    for (Map.Entry<OutboxColumn, String> e : columns.entrySet()) {
      OutboxColumn col = e.getKey();
      String name = e.getValue();
      String[] found = actual.get(name);
      if (found == null) {
        problems.add(
            "column "
                + name
                + " ("
                + col.dataType()
                + ") is missing in "
                + where
                + " (columns: "
                + String.join(", ", actual.keySet())
                + ")");
      } else if (!typeMatches(col, found[0])) {
        problems.add(
            "column "
                + where
                + "."
                + name
                + " is "
                + found[0]
                + ", expected "
                + col.dataType()
                + (TEXT_TYPES.contains(col.dataType()) ? " or text" : ""));
      }
    }
    for (Map.Entry<String, String[]> e : actual.entrySet()) {
      if (!columns.containsValue(e.getKey())
          && "NO".equals(e.getValue()[1])
          && e.getValue()[2] == null) {
        problems.add(
            "column "
                + where
                + "."
                + e.getKey()
                + " is NOT NULL without a default, but the outbox does not write it: give it a"
                + " default or drop NOT NULL");
      }
    }
    String qualified = Identifiers.quote(schema) + "." + Identifiers.quote(table);
    requirePrivilege(c, qualified, where, "INSERT", problems);
    if (deleteAfterInsert) {
      requirePrivilege(c, qualified, where, "DELETE", problems);
    }
    return problems;
  }

  /** Problems of strategy WAL_MESSAGE: the server must decode logical messages. */
  public static List<String> checkWal(Connection c) throws SQLException {
    List<String> problems = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW wal_level")) {
      rs.next();
      String level = rs.getString(1);
      if (!"logical".equals(level)) {
        problems.add(
            "wal_level is "
                + level
                + ", but WAL messages reach the relay only with wal_level=logical (set it in"
                + " postgresql.conf and restart)");
      }
    }
    return problems;
  }

  private static String currentUser(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_user")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static boolean typeMatches(OutboxColumn col, String actualType) {
    if (TEXT_TYPES.contains(col.dataType())) {
      return TEXT_TYPES.contains(actualType);
    }
    return col.dataType().equals(actualType);
  }

  private static void requirePrivilege(
      Connection c, String qualified, String where, String privilege, List<String> problems)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT has_table_privilege(?, ?)")) {
      ps.setString(1, qualified);
      ps.setString(2, privilege);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          problems.add(
              "user "
                  + currentUser(c)
                  + " lacks "
                  + privilege
                  + " on "
                  + where
                  + ": GRANT "
                  + privilege
                  + " ON "
                  + qualified
                  + " TO ...");
        }
      }
    }
  }
}
