package dev.unpoll.consumer;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The poller's row-handling code written against its own row type (a record or bean that Jackson
 * can bind). Adapt it with {@link LegacyRows#handler(Class, TypedRowHandler)}.
 *
 * @param <T> the row type
 */
@FunctionalInterface
public interface TypedRowHandler<T> {
  /** Handles one row through {@code connection}; never commit or close it. */
  void handle(T row, Connection connection) throws SQLException;
}
