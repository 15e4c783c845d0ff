package dev.unpoll.consumer;

/** What happened to one record. */
public enum Outcome {
  /** The handler ran and its transaction committed with the idempotency key. */
  HANDLED,
  /** The key was already recorded: the handler did not run. */
  DUPLICATE,
  /** Dual-run claim mode: the legacy row was no longer pending, the poller handled it first. */
  POLLER_WON,
  /** Shadow mode: receipt recorded in the shadow ledger, the handler did not run. */
  SHADOWED,
  /** The record had no idempotency key and {@link MissingKeyPolicy#SKIP} is configured. */
  SKIPPED_NO_KEY
}
