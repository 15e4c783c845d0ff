package dev.unpoll.outbox.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** Writes encoded events through the caller's connection, in the caller's transaction. */
public interface EventWriter {
  /** Writes {@code events} (at least one) in one round trip where the strategy allows it. */
  void write(Connection connection, List<EncodedEvent> events) throws SQLException;

  /** Where events go, for messages and logs: {@code public.unpoll_outbox} or the WAL prefix. */
  String target();
}
