package dev.unpoll.relay.internal;

import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.UnpollConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The durable record of which tables' backlogs are done: table {@code unpoll_relay_backlog_<slot>}
 * in the source database's current schema, one row per table. A table is recorded only after Kafka
 * acknowledged every record of the snapshot that read its backlog, so a backlog interrupted at any
 * point (crash, SIGTERM, lost lock) is read again at the next start.
 */
public final class BacklogLedger {

  private final String table;

  /** The ledger of {@code config}'s slot. */
  public BacklogLedger(UnpollConfig config) {
    this(config.source().slot());
  }

  /** The ledger of the relay reading {@code slot}. */
  public BacklogLedger(String slot) {
    this.table = RelayNames.backlogTable(slot);
  }

  /** Name of the ledger table of {@code config}'s slot. */
  public static String table(UnpollConfig config) {
    return new BacklogLedger(config).table;
  }

  /** DDL of the ledger (idempotent). */
  public String ddl() {
    return "CREATE TABLE IF NOT EXISTS "
        + TableName.quote(table)
        + " (schema_name text NOT NULL, table_name text NOT NULL,"
        + " done_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (schema_name, table_name))";
  }

  /** Creates the ledger when missing (an existing one needs no CREATE privilege). */
  public void ensure(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, TableName.quote(table));
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getBoolean(1)) {
          return;
        }
      }
    }
    try (Statement s = c.createStatement()) {
      s.execute(ddl());
    }
  }

  /** The tables whose backlog is done. */
  public Set<TableName> done(Connection c) throws SQLException {
    Set<TableName> done = new LinkedHashSet<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT schema_name, table_name FROM " + TableName.quote(table))) {
      while (rs.next()) {
        done.add(new TableName(rs.getString(1), rs.getString(2)));
      }
    }
    return done;
  }

  /** Forgets every recorded backlog (a start without offsets reads them all again). */
  public void reset(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.executeUpdate("DELETE FROM " + TableName.quote(table));
    }
  }

  /** Records the backlogs of {@code tables} as done (idempotent). */
  public void markDone(Connection c, Collection<TableName> tables) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO "
                + TableName.quote(table)
                + " (schema_name, table_name) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
      for (TableName t : tables) {
        ps.setString(1, t.schema());
        ps.setString(2, t.table());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }
}
