package dev.unpoll.outbox.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** Writes encoded events through the caller's connection, in the caller's transaction. */
public interface EventWriter {
  /** Writes {@code events} (at least one) in one round trip where the strategy allows it. */
  void write(Connection connection, List<EncodedEvent> events) throws SQLException;

  /**
   * Writes {@code events} (at least one) and commits, in one round trip: the statements are
   * followed by {@code COMMIT} in the same query, which pgjdbc pipelines with a single sync. When a
   * write fails the server skips the {@code COMMIT}; when the commit fails the server has ended the
   * transaction. Either way an {@link SQLException} is thrown and nothing is committed.
   */
  void writeAndCommit(Connection connection, List<EncodedEvent> events) throws SQLException;

  /** Where events go, for messages and logs: {@code public.unpoll_outbox} or the WAL prefix. */
  String target();
}
