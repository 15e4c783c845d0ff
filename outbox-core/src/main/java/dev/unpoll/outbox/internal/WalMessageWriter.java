package dev.unpoll.outbox.internal;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * Strategy WAL_MESSAGE: {@code pg_logical_emit_message(true, prefix, content)}, a transactional
 * logical-decoding message that is decoded only if the transaction commits. A batch is one
 * statement, {@code SELECT count(pg_logical_emit_message(true, ?, m)) FROM unnest(?::text[]) AS m},
 * which emits the messages in array order in one round trip.
 */
public final class WalMessageWriter implements EventWriter {
  static final String SINGLE = "SELECT pg_logical_emit_message(true, ?::text, ?::text)";
  static final String BATCH =
      "SELECT count(pg_logical_emit_message(true, ?::text, m)) FROM unnest(?::text[]) AS m";

  private final String prefix;

  public WalMessageWriter(String prefix) {
    this.prefix = prefix;
  }

  @Override
  public String target() {
    return "WAL message prefix " + prefix;
  }

  @Override
  public void write(Connection connection, List<EncodedEvent> events) throws SQLException {
    write(connection, events, "");
  }

  @Override
  public void writeAndCommit(Connection connection, List<EncodedEvent> events) throws SQLException {
    write(connection, events, ";\nCOMMIT");
  }

  private void write(Connection connection, List<EncodedEvent> events, String suffix)
      throws SQLException {
    if (events.size() == 1) {
      try (PreparedStatement ps = connection.prepareStatement(SINGLE + suffix)) {
        ps.setString(1, prefix);
        ps.setString(2, events.get(0).walMessageJson());
        ps.execute(); // the LSN / count it returns is not needed
      }
      return;
    }
    String[] contents = new String[events.size()];
    for (int i = 0; i < contents.length; i++) {
      contents[i] = events.get(i).walMessageJson();
    }
    Array array = connection.createArrayOf("text", contents);
    try (PreparedStatement ps = connection.prepareStatement(BATCH + suffix)) {
      ps.setString(1, prefix);
      ps.setArray(2, array);
      ps.execute(); // the LSN / count it returns is not needed
    } finally {
      array.free();
    }
  }
}
