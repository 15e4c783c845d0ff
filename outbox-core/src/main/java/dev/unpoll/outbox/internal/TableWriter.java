package dev.unpoll.outbox.internal;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/**
 * Strategy TABLE: {@code INSERT} one row per event; a batch is one JDBC batch ({@code
 * addBatch}/{@code executeBatch}, which pgjdbc pipelines in one round trip).
 *
 * <p>With delete-after-insert, one event is {@code INSERT ...; DELETE ... WHERE id = ?} and a batch
 * is {@code INSERT ... SELECT FROM unnest(arrays); DELETE ... WHERE id = ANY(?)}: two statements
 * that pgjdbc sends in one round trip (a JDBC batch of a two-statement query is refused by pgjdbc).
 * The delete sees the insert because it is a separate statement; the row never outlives the
 * transaction but its insert is in the WAL.
 *
 * <p>{@link #writeAndCommit} appends {@code ;\nCOMMIT} to the single-event statement, or to the
 * {@code unnest} form for a batch (a JDBC batch cannot carry the {@code COMMIT}).
 */
public final class TableWriter implements EventWriter {
  private static final String COMMIT = ";\nCOMMIT";
  private final String target;
  private final String single;
  private final String unnestBatch;
  private final boolean deleteAfterInsert;

  /**
   * @param qualifiedTable quoted {@code "schema"."table"}
   * @param columns quoted column names in the order id, aggregatetype, aggregateid, type, payload,
   *     headers, created_at
   */
  public TableWriter(
      String target, String qualifiedTable, List<String> columns, boolean deleteAfterInsert) {
    this.target = target;
    this.deleteAfterInsert = deleteAfterInsert;
    String into = "INSERT INTO " + qualifiedTable + " (" + String.join(", ", columns) + ")";
    String insert = into + " VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?)";
    String delete = "DELETE FROM " + qualifiedTable + " WHERE " + columns.get(0);
    this.single = deleteAfterInsert ? insert + ";\n" + delete + " = ?" : insert;
    String unnestInsert =
        into
            + " SELECT u.i::uuid, u.at, u.ai, u.t, u.p::jsonb, u.h::jsonb, u.c::timestamptz"
            + " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],"
            + " ?::text[]) AS u(i, at, ai, t, p, h, c)";
    this.unnestBatch =
        deleteAfterInsert ? unnestInsert + ";\n" + delete + " = ANY(?::uuid[])" : unnestInsert;
  }

  /** The statement for one event, for tests and docs. */
  public String sql() {
    return single;
  }

  @Override
  public String target() {
    return target;
  }

  @Override
  public void write(Connection connection, List<EncodedEvent> events) throws SQLException {
    if (events.size() == 1) {
      try (PreparedStatement ps = connection.prepareStatement(single)) {
        bind(ps, events.get(0));
        ps.execute();
      }
    } else if (deleteAfterInsert) {
      writeUnnest(connection, events, unnestBatch);
    } else {
      try (PreparedStatement ps = connection.prepareStatement(single)) {
        for (EncodedEvent e : events) {
          bind(ps, e);
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
  }

  @Override
  public void writeAndCommit(Connection connection, List<EncodedEvent> events) throws SQLException {
    if (events.size() == 1) {
      try (PreparedStatement ps = connection.prepareStatement(single + COMMIT)) {
        bind(ps, events.get(0));
        ps.execute();
      }
    } else {
      writeUnnest(connection, events, unnestBatch + COMMIT);
    }
  }

  private void bind(PreparedStatement ps, EncodedEvent e) throws SQLException {
    ps.setObject(1, e.id());
    ps.setString(2, e.aggregateType());
    ps.setString(3, e.aggregateId());
    ps.setString(4, e.type());
    ps.setString(5, e.payloadJson());
    ps.setString(6, e.tableHeadersJson());
    ps.setObject(7, OffsetDateTime.ofInstant(e.occurredAt(), ZoneOffset.UTC));
    if (deleteAfterInsert) {
      ps.setObject(8, e.id());
    }
  }

  private void writeUnnest(Connection connection, List<EncodedEvent> events, String sql)
      throws SQLException {
    int n = events.size();
    String[][] columns = new String[7][n];
    for (int i = 0; i < n; i++) {
      EncodedEvent e = events.get(i);
      columns[0][i] = e.id().toString();
      columns[1][i] = e.aggregateType();
      columns[2][i] = e.aggregateId();
      columns[3][i] = e.type();
      columns[4][i] = e.payloadJson();
      columns[5][i] = e.tableHeadersJson();
      columns[6][i] = e.occurredAt().toString();
    }
    Array[] arrays = new Array[7];
    try (PreparedStatement ps = connection.prepareStatement(sql)) {
      for (int c = 0; c < 7; c++) {
        arrays[c] = connection.createArrayOf("text", columns[c]);
        ps.setArray(c + 1, arrays[c]);
      }
      if (deleteAfterInsert) {
        ps.setArray(8, arrays[0]);
      }
      ps.execute();
    } finally {
      for (Array a : arrays) {
        if (a != null) {
          a.free();
        }
      }
    }
  }
}
