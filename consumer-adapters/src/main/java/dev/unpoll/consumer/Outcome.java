package dev.unpoll.consumer;

/** What happened to one record. */
public enum Outcome {
  /** The handler ran and its transaction committed with the idempotency key. */
  HANDLED,
  /** The key was already recorded: the handler did not run. */
  DUPLICATE,
  /** Dual-run claim mode: the legacy row is in a done status, the poller handled it first. */
  POLLER_WON,
  /**
   * Dual-run claim mode: the legacy row was deleted after its (visible) insert, before the claim;
   * the handler did not run. See {@link DualRunClaim.Result#ROW_DELETED}.
   */
  ROW_DELETED,
  /** Shadow mode: receipt recorded in the shadow ledger, the handler did not run. */
  SHADOWED,
  /** The record had no idempotency key and {@link MissingKeyPolicy#SKIP} is configured. */
  SKIPPED_NO_KEY
}
