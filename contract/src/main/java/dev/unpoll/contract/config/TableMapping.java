package dev.unpoll.contract.config;

import dev.unpoll.contract.TableName;
import java.util.List;
import java.util.Optional;

/**
 * One captured legacy table.
 *
 * @param table the table
 * @param topic its topic
 * @param key key columns; empty means the primary key
 * @param value row or payload
 * @param payloadColumn the payload column, with {@link ValueMode#PAYLOAD}
 * @param eventType {@code ce_type}; empty means {@code <schema>.<table>.inserted}
 * @param bookkeepingColumns the poller's columns: left out of row values, and updates touching only
 *     them emit nothing
 * @param status the poller's status column, if any
 * @param backlog publish rows still pending when capture starts, once
 * @param emitUpdates updates of business columns as events
 * @param emitDeletes deletes as events
 * @param createdAtColumn when the writer inserted a row (e.g. {@code created_at}): the time window
 *     {@code unpoll verify} and the phase gates compare, and the start of the poller's latency
 * @param processedAtColumn when the poller finished a row (e.g. {@code processed_at}): the end of
 *     the poller's latency; the dual-run claim sets it too
 */
public record TableMapping(
    TableName table,
    String topic,
    List<String> key,
    ValueMode value,
    Optional<String> payloadColumn,
    Optional<String> eventType,
    List<String> bookkeepingColumns,
    Optional<Status> status,
    boolean backlog,
    boolean emitUpdates,
    boolean emitDeletes,
    Optional<String> createdAtColumn,
    Optional<String> processedAtColumn) {
  /** Copies the lists. */
  public TableMapping {
    key = List.copyOf(key);
    bookkeepingColumns = List.copyOf(bookkeepingColumns);
  }

  /** A mapping that names no created-at and no processed-at column. */
  public TableMapping(
      TableName table,
      String topic,
      List<String> key,
      ValueMode value,
      Optional<String> payloadColumn,
      Optional<String> eventType,
      List<String> bookkeepingColumns,
      Optional<Status> status,
      boolean backlog,
      boolean emitUpdates,
      boolean emitDeletes) {
    this(
        table,
        topic,
        key,
        value,
        payloadColumn,
        eventType,
        bookkeepingColumns,
        status,
        backlog,
        emitUpdates,
        emitDeletes,
        Optional.empty(),
        Optional.empty());
  }

  /** What a legacy row's Kafka value is. */
  public enum ValueMode {
    /** A JSON object of the row's columns minus its bookkeeping columns. */
    ROW,
    /** The payload column alone: JSON as JSON, text as text, bytea as bytes. */
    PAYLOAD
  }

  /**
   * The poller's status column.
   *
   * @param column the column
   * @param pending values that mean "not yet handled" (the backlog condition)
   * @param done values that mean "handled"
   * @param inProgress values the poller sets while it works on a row (e.g. PROCESSING)
   * @param failed values the poller sets when handling failed and it may re-queue the row
   */
  public record Status(
      String column,
      List<String> pending,
      List<String> done,
      List<String> inProgress,
      List<String> failed) {
    /** Copies the lists. */
    public Status {
      pending = List.copyOf(pending);
      done = List.copyOf(done);
      inProgress = List.copyOf(inProgress);
      failed = List.copyOf(failed);
    }

    /** A status without in-progress or failed values. */
    public Status(String column, List<String> pending, List<String> done) {
      this(column, pending, done, List.of(), List.of());
    }
  }
}
