package dev.unpoll.outbox.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/**
 * Strategy TABLE: {@code INSERT} one row per event; a batch is one JDBC batch ({@code
 * addBatch}/{@code executeBatch}, pipelined by pgjdbc in one round trip). With delete-after-insert
 * the statement is {@code INSERT ...; DELETE ... WHERE id = ?}, which pgjdbc sends as two
 * statements in the same round trip, so the row never outlives the transaction but its insert is in
 * the WAL.
 */
public final class TableWriter implements EventWriter {
  private final String target;
  private final String sql;
  private final boolean deleteAfterInsert;

  /**
   * @param qualifiedTable quoted {@code "schema"."table"}
   * @param columns quoted column names in the order id, aggregatetype, aggregateid, type, payload,
   *     headers, created_at
   */
  public TableWriter(
      String target, String qualifiedTable, List<String> columns, boolean deleteAfterInsert) {
    this.target = target;
    String insert =
        "INSERT INTO "
            + qualifiedTable
            + " ("
            + String.join(", ", columns)
            + ") VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?)";
    this.sql =
        deleteAfterInsert
            ? insert + ";\nDELETE FROM " + qualifiedTable + " WHERE " + columns.get(0) + " = ?"
            : insert;
    this.deleteAfterInsert = deleteAfterInsert;
  }

  /** The statement, for tests and docs. */
  public String sql() {
    return sql;
  }

  @Override
  public String target() {
    return target;
  }

  @Override
  public void write(Connection connection, List<EncodedEvent> events) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(sql)) {
      if (events.size() == 1) {
        bind(ps, events.get(0));
        ps.execute();
        return;
      }
      for (EncodedEvent e : events) {
        bind(ps, e);
        ps.addBatch();
      }
      ps.executeBatch();
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
}
