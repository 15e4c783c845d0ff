package dev.unpoll.consumer;

import java.util.Optional;

/**
 * A batch transaction of {@link IdempotentConsumer#processBatch} failed and was rolled back. The
 * cause is the original failure; {@link #failedIndex()} names the event that failed, when one did
 * (a failure of the batch's own statements names none).
 */
public class BatchFailedException extends ConsumerException {
  private final int failedIndex;
  private final transient InboundEvent failedEvent;

  /** A failure of the event at {@code failedIndex} of the batch, or -1 for none in particular. */
  public BatchFailedException(
      String message, int failedIndex, InboundEvent failedEvent, Throwable cause) {
    super(message, cause);
    this.failedIndex = failedIndex;
    this.failedEvent = failedEvent;
  }

  /** Index in the batch of the event that failed, or -1. */
  public int failedIndex() {
    return failedIndex;
  }

  /** The event that failed, if one did. */
  public Optional<InboundEvent> failedEvent() {
    return Optional.ofNullable(failedEvent);
  }
}
