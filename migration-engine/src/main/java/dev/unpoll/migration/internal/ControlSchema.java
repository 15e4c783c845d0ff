package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code unpoll} schema: each table's phase and mapping ({@code migration}), the audit log of
 * every transition with its gate results ({@code migration_log}), and the heartbeat table the relay
 * writes so an idle table does not pin WAL.
 */
public final class ControlSchema {
  /** The control schema's name. */
  public static final String SCHEMA = "unpoll";

  /**
   * The relay's heartbeat table ({@link dev.unpoll.contract.RelayNames#HEARTBEAT_TABLE}), created
   * and added to the publication at capture so the relay finds its publication complete.
   */
  public static final TableName HEARTBEAT = dev.unpoll.contract.RelayNames.HEARTBEAT_TABLE;

  static final List<String> DDL =
      List.of(
          "CREATE SCHEMA IF NOT EXISTS unpoll",
          "CREATE TABLE IF NOT EXISTS unpoll.migration ("
              + " table_name text PRIMARY KEY,"
              + " phase text NOT NULL,"
              + " mapping jsonb NOT NULL DEFAULT '{}'::jsonb,"
              + " updated_at timestamptz NOT NULL DEFAULT now())",
          "CREATE TABLE IF NOT EXISTS unpoll.migration_log ("
              + " id bigserial PRIMARY KEY,"
              + " table_name text NOT NULL,"
              + " from_phase text,"
              + " to_phase text NOT NULL,"
              + " at timestamptz NOT NULL DEFAULT now(),"
              + " actor text NOT NULL,"
              + " gate_results jsonb NOT NULL DEFAULT '[]'::jsonb,"
              + " reason text)",
          "CREATE INDEX IF NOT EXISTS migration_log_table_at ON unpoll.migration_log (table_name, at)",
          dev.unpoll.contract.RelayNames.heartbeatTableDdl());

  private static final ObjectMapper JSON = new ObjectMapper();

  private ControlSchema() {}

  /** One table's row of {@code unpoll.migration}. */
  public record State(String table, Phase phase, JsonNode mapping, Instant updatedAt) {}

  /** One row of {@code unpoll.migration_log}. */
  public record LogEntry(
      String table,
      Phase from,
      Phase to,
      Instant at,
      String actor,
      JsonNode gateResults,
      String reason) {}

  /** Creates the schema and its tables if missing. */
  public static void ensure(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String ddl : DDL) {
        s.execute(ddl);
      }
    }
  }

  /** Whether the control schema exists. */
  public static boolean exists(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT to_regclass('unpoll.migration') IS NOT NULL");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  /** The table's state, locking its row when {@code forUpdate} (inside a transaction). */
  public static Optional<State> state(Connection c, TableName t, boolean forUpdate)
      throws SQLException {
    if (!exists(c)) {
      return Optional.empty();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT phase, mapping::text, updated_at FROM unpoll.migration WHERE table_name = ?"
                + (forUpdate ? " FOR UPDATE" : ""))) {
      ps.setString(1, t.display());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new State(
                t.display(),
                Phase.fromId(rs.getString(1)),
                readJson(rs.getString(2)),
                rs.getTimestamp(3).toInstant()));
      }
    }
  }

  /** Every table's state, by name. */
  public static List<State> all(Connection c) throws SQLException {
    List<State> list = new ArrayList<>();
    if (!exists(c)) {
      return list;
    }
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT table_name, phase, mapping::text, updated_at FROM unpoll.migration"
                    + " ORDER BY table_name");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        list.add(
            new State(
                rs.getString(1),
                Phase.fromId(rs.getString(2)),
                readJson(rs.getString(3)),
                rs.getTimestamp(4).toInstant()));
      }
    }
    return list;
  }

  /** Sets the phase (and mapping) and appends the log entry, in the caller's transaction. */
  public static void record(
      Connection c,
      TableName t,
      Phase from,
      Phase to,
      JsonNode mapping,
      String actor,
      JsonNode gates,
      String reason)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO unpoll.migration (table_name, phase, mapping, updated_at)"
                + " VALUES (?, ?, ?::jsonb, now())"
                + " ON CONFLICT (table_name) DO UPDATE SET phase = excluded.phase,"
                + " mapping = excluded.mapping, updated_at = excluded.updated_at")) {
      ps.setString(1, t.display());
      ps.setString(2, to.id());
      ps.setString(3, JSON.writeValueAsString(mapping));
      ps.executeUpdate();
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO unpoll.migration_log"
                + " (table_name, from_phase, to_phase, actor, gate_results, reason)"
                + " VALUES (?, ?, ?, ?, ?::jsonb, ?)")) {
      ps.setString(1, t.display());
      ps.setString(2, from == null ? null : from.id());
      ps.setString(3, to.id());
      ps.setString(4, actor);
      ps.setString(5, gates.toString());
      ps.setString(6, reason);
      ps.executeUpdate();
    }
  }

  /** When the table last entered {@code phase}, if it did. */
  public static Optional<Instant> entered(Connection c, TableName t, Phase phase)
      throws SQLException {
    if (!exists(c)) {
      return Optional.empty();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT max(at) FROM unpoll.migration_log WHERE table_name = ? AND to_phase = ?")) {
      ps.setString(1, t.display());
      ps.setString(2, phase.id());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        Timestamp ts = rs.getTimestamp(1);
        return Optional.ofNullable(ts).map(Timestamp::toInstant);
      }
    }
  }

  /** The table's log, oldest first. */
  public static List<LogEntry> log(Connection c, TableName t) throws SQLException {
    List<LogEntry> list = new ArrayList<>();
    if (!exists(c)) {
      return list;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT from_phase, to_phase, at, actor, gate_results::text, reason"
                + " FROM unpoll.migration_log WHERE table_name = ? ORDER BY id")) {
      ps.setString(1, t.display());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          list.add(
              new LogEntry(
                  t.display(),
                  rs.getString(1) == null ? null : Phase.fromId(rs.getString(1)),
                  Phase.fromId(rs.getString(2)),
                  rs.getTimestamp(3).toInstant(),
                  rs.getString(4),
                  readJson(rs.getString(5)),
                  rs.getString(6)));
        }
      }
    }
    return list;
  }

  private static JsonNode readJson(String text) {
    try {
      return JSON.readTree(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("unpoll.migration holds invalid JSON", e);
    }
  }
}
