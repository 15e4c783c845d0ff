package dev.unpoll.consumer;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The effect of one event. It runs inside the transaction that records the idempotency key, on that
 * transaction's connection: do the database work through {@code connection} and never commit, roll
 * back or close it. Throw to fail the event (it is retried, then dead-lettered); throw {@link
 * NonRetryableException} to dead-letter it at once.
 */
@FunctionalInterface
public interface EventHandler {
  /** Applies the event's effect through {@code connection}. */
  void handle(InboundEvent event, Connection connection) throws SQLException;
}
