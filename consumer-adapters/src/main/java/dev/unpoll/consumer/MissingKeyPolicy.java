package dev.unpoll.consumer;

/** What happens to a record that has no idempotency key. */
public enum MissingKeyPolicy {
  /**
   * Fail the record with a {@link MissingIdempotencyKeyException}, which is non-retryable: the
   * runner (or Spring's error handler) sends it to the dead-letter topic at once. The default.
   */
  DEAD_LETTER,
  /** Skip the record without running the handler; it is logged with its coordinates. */
  SKIP
}
