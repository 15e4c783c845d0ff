package dev.unpoll.outbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Reads a logical replication slot with the {@code test_decoding} plugin: the simplest proof of
 * what a committed transaction put into the WAL (and that a rolled-back one put nothing).
 */
final class Decoding {
  private Decoding() {}

  static void createSlot(DataSource ds, String slot) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'test_decoding')")) {
      ps.setString(1, slot);
      ps.execute();
    }
  }

  static void dropSlot(DataSource ds, String slot) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
      ps.setString(1, slot);
      ps.execute();
    }
  }

  /** Consumes and returns every decoded line since the last call. */
  static List<String> changes(DataSource ds, String slot) throws SQLException {
    List<String> lines = new ArrayList<>();
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT data FROM pg_logical_slot_get_changes(?, NULL, NULL)")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          lines.add(rs.getString(1));
        }
      }
    }
    return lines;
  }

  /**
   * Consumes the slot and returns the contents of transactional messages with {@code prefix}, in
   * WAL order. test_decoding prints them as {@code message: transactional: 1 prefix: p, sz: n
   * content:...}.
   */
  static List<String> messages(DataSource ds, String slot, String prefix) throws SQLException {
    List<String> contents = new ArrayList<>();
    for (String line : changes(ds, slot)) {
      if (line.startsWith("message: transactional: 1 prefix: " + prefix + ", ")) {
        contents.add(line.substring(line.indexOf(" content:") + " content:".length()));
      }
    }
    return contents;
  }
}
