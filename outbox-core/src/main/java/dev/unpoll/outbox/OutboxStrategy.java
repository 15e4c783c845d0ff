package dev.unpoll.outbox;

/** How an event travels from the caller's transaction to the relay. */
public enum OutboxStrategy {
  /**
   * One row per event in the outbox table ({@code unpoll_outbox} by default), Debezium Outbox Event
   * Router compatible. Optionally deleted in the same transaction ({@link
   * Outbox.Builder#deleteAfterInsert(boolean)}): the WAL still carries the insert.
   */
  TABLE,
  /**
   * A transactional logical-decoding message, {@code pg_logical_emit_message(true, prefix,
   * content)}: no table at all. PostgreSQL only.
   */
  WAL_MESSAGE
}
