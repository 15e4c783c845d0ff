package dev.unpoll.consumer;

/**
 * Dual-run claim mode: the claim matched no pending row and the row's fate is not decided yet, so
 * the event must be tried again later rather than counted as won by the poller. The transaction is
 * rolled back, so the idempotency key is not recorded and a retry can claim. It is retryable: the
 * runner retries it with its {@link RetryPolicy} (and dead-letters it once the attempts are spent,
 * so it is never dropped silently).
 */
public class ClaimNotDecidedException extends ConsumerException {
  /** Why the claim could not decide. */
  public enum Reason {
    /** The row was pending when looked at again: it became visible after the claim's update. */
    PENDING,
    /** The row is in one of the poller's in-progress statuses. */
    IN_PROGRESS,
    /** The row is in one of the poller's failed statuses: the poller may re-queue it. */
    FAILED,
    /** The row has a status that is none of the configured pending, in-progress, failed, done. */
    UNKNOWN_STATUS,
    /** No such row, and the event's source transaction is not visible yet (commit in flight). */
    NOT_VISIBLE_YET,
    /** No such row, and the event carries no {@code unpoll_txid} to tell "not yet" from "gone". */
    ABSENT_UNKNOWN
  }

  private final Reason reason;

  /** A claim of {@code reason}, with a message naming the table, the key and the record. */
  public ClaimNotDecidedException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  /** Why the claim could not decide. */
  public Reason reason() {
    return reason;
  }
}
