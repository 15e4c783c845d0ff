package dev.unpoll.consumer;

/**
 * A record carries no idempotency key (no {@code ce_id} header, or the configured {@link
 * KeyExtractor} found none). Non-retryable: with {@link MissingKeyPolicy#DEAD_LETTER} the record
 * goes to the dead-letter topic at once.
 */
public class MissingIdempotencyKeyException extends NonRetryableException {
  /** Creates an exception naming the record's coordinates. */
  public MissingIdempotencyKeyException(String message) {
    super(message);
  }
}
