package dev.unpoll.cli;

import java.time.Duration;

/**
 * How a phase command runs.
 *
 * @param force apply the transition even when gates fail (needs a reason)
 * @param reason why, recorded in {@code unpoll.migration_log}
 * @param actor who, recorded in the log
 * @param window how far back the reconciliation gates look
 * @param settle rows younger than this are not expected to be in the topic or handled yet
 * @param consumerGroup the new consumer's group (shadow ledger and processed keys), or null to use
 *     the one recorded when the table entered shadow
 * @param hold how long cutover must have held before retire
 * @param topic the topic, when no configuration file maps the table (capture only)
 * @param createSlot whether capture creates the replication slot (otherwise the relay does)
 */
public record TransitionOptions(
    boolean force,
    String reason,
    String actor,
    Duration window,
    Duration settle,
    String consumerGroup,
    Duration hold,
    String topic,
    boolean createSlot) {
  /** The reconciliation window when none is given. */
  public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(15);

  /** The settle time when none is given. */
  public static final Duration DEFAULT_SETTLE = Duration.ofSeconds(5);

  /** How long cutover must hold before retire when nothing else is agreed. */
  public static final Duration DEFAULT_HOLD = Duration.ofHours(24);

  /** Validates: forcing needs a reason; durations are not negative. */
  public TransitionOptions {
    if (force && (reason == null || reason.isBlank())) {
      throw UnpollCliException.usage(
          "--force needs --reason \"why\": the reason is recorded in unpoll.migration_log");
    }
    window = window == null ? DEFAULT_WINDOW : window;
    settle = settle == null ? DEFAULT_SETTLE : settle;
    hold = hold == null ? DEFAULT_HOLD : hold;
    if (window.isNegative() || settle.isNegative() || hold.isNegative()) {
      throw UnpollCliException.usage("--since, --settle and --hold must not be negative");
    }
    actor = actor == null || actor.isBlank() ? System.getProperty("user.name", "unknown") : actor;
  }

  /** Defaults: no force, the default window, settle and hold, slot created at capture. */
  public static TransitionOptions defaults() {
    return new TransitionOptions(false, null, null, null, null, null, null, null, true);
  }
}
