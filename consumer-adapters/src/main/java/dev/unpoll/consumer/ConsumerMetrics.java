package dev.unpoll.consumer;

/**
 * Names of the Micrometer meters the consumer adapters register. Every meter carries the tags
 * {@value #TAG_GROUP} (the consumer group) and {@value #TAG_TOPIC}.
 */
public final class ConsumerMetrics {
  /** Counter: events whose handler ran and committed. */
  public static final String HANDLED = "unpoll.consumer.handled";

  /** Counter: events skipped because their key was already recorded. */
  public static final String DUPLICATES = "unpoll.consumer.duplicates";

  /** Counter: claim mode, events skipped because the poller had handled the row. */
  public static final String POLLER_WON = "unpoll.consumer.poller.won";

  /** Counter: claim mode, events skipped because their row was deleted before the claim. */
  public static final String ROW_DELETED = "unpoll.consumer.claim.row.deleted";

  /**
   * Counter: claim mode, claims that could not decide and were rolled back to be retried ({@link
   * ClaimNotDecidedException}); tagged {@value #TAG_REASON}.
   */
  public static final String CLAIM_NOT_DECIDED = "unpoll.consumer.claim.not.decided";

  /** Counter: shadow mode, events recorded in the shadow ledger. */
  public static final String SHADOWED = "unpoll.consumer.shadowed";

  /** Counter: events skipped for want of an idempotency key ({@link MissingKeyPolicy#SKIP}). */
  public static final String SKIPPED_NO_KEY = "unpoll.consumer.skipped.no.key";

  /** Counter: failed attempts that were retried. */
  public static final String RETRIES = "unpoll.consumer.retries";

  /** Counter: events sent to the dead-letter topic. */
  public static final String DEAD_LETTERED = "unpoll.consumer.dead.lettered";

  /** Timer: time spent in the handler (and the claim), per event. */
  public static final String HANDLER_LATENCY = "unpoll.consumer.handler.latency";

  /** Timer: from {@code ce_time} (source commit) to the consumer's commit, per handled event. */
  public static final String END_TO_END_LATENCY = "unpoll.consumer.end.to.end.latency";

  /** Tag: consumer group. */
  public static final String TAG_GROUP = "group";

  /** Tag: why a claim could not decide, a {@link ClaimNotDecidedException.Reason} name. */
  public static final String TAG_REASON = "reason";

  /** Tag: topic. */
  public static final String TAG_TOPIC = "topic";

  private ConsumerMetrics() {}
}
