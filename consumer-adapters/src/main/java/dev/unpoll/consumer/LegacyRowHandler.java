package dev.unpoll.consumer;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The poller's row-handling code, receiving the row as the event carries it. Adapt it to an {@link
 * EventHandler} with {@link LegacyRows#handler(LegacyRowHandler)}.
 */
@FunctionalInterface
public interface LegacyRowHandler {
  /** Handles one row through {@code connection}; never commit or close it. */
  void handle(LegacyRow row, Connection connection) throws SQLException;
}
