package dev.unpoll.migration;

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
  /** {@link #DEFAULT_WINDOW} as written on the command line. */
  public static final String DEFAULT_WINDOW_TEXT = "15m";

  /** {@link #DEFAULT_SETTLE} as written on the command line. */
  public static final String DEFAULT_SETTLE_TEXT = "5s";

  /** {@link #DEFAULT_HOLD} as written on the command line. */
  public static final String DEFAULT_HOLD_TEXT = "24h";

  /** The reconciliation window when none is given. */
  public static final Duration DEFAULT_WINDOW = Durations.parse(DEFAULT_WINDOW_TEXT);

  /** The settle time when none is given. */
  public static final Duration DEFAULT_SETTLE = Durations.parse(DEFAULT_SETTLE_TEXT);

  /** How long cutover must hold before retire when nothing else is agreed. */
  public static final Duration DEFAULT_HOLD = Durations.parse(DEFAULT_HOLD_TEXT);

  /** Validates: forcing needs a reason; durations are not negative. All problems in one message. */
  public TransitionOptions {
    java.util.List<String> problems = new java.util.ArrayList<>();
    if (force && (reason == null || reason.isBlank())) {
      problems.add(
          "--force needs --reason \"why\": the reason is recorded in unpoll.migration_log");
    }
    window = window == null ? DEFAULT_WINDOW : window;
    settle = settle == null ? DEFAULT_SETTLE : settle;
    hold = hold == null ? DEFAULT_HOLD : hold;
    if (window.isNegative()) {
      problems.add("--since must not be negative, was " + window);
    }
    if (settle.isNegative()) {
      problems.add("--settle must not be negative, was " + settle);
    }
    if (hold.isNegative()) {
      problems.add("--hold must not be negative, was " + hold);
    }
    if (!problems.isEmpty()) {
      throw MigrationException.usage(String.join("; ", problems));
    }
    actor = actor == null || actor.isBlank() ? System.getProperty("user.name", "unknown") : actor;
  }

  /** Defaults: no force, the default window, settle and hold, slot created at capture. */
  public static TransitionOptions defaults() {
    return new TransitionOptions(false, null, null, null, null, null, null, null, true);
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link TransitionOptions}; {@link #build()} validates. */
  public static final class Builder {
    private boolean force;
    private String reason;
    private String actor;
    private Duration window;
    private Duration settle;
    private String consumerGroup;
    private Duration hold;
    private String topic;
    private boolean createSlot = true;

    private Builder() {}

    /** Apply even when gates fail; needs {@link #reason}. */
    public Builder force(boolean force) {
      this.force = force;
      return this;
    }

    /** Why; recorded in the log. */
    public Builder reason(String reason) {
      this.reason = reason;
      return this;
    }

    /** Who; recorded in the log (default: the OS user). */
    public Builder actor(String actor) {
      this.actor = actor;
      return this;
    }

    /** How far back the gates look (default {@link #DEFAULT_WINDOW}). */
    public Builder window(Duration window) {
      this.window = window;
      return this;
    }

    /** Rows younger than this are not expected yet (default {@link #DEFAULT_SETTLE}). */
    public Builder settle(Duration settle) {
      this.settle = settle;
      return this;
    }

    /** The new consumer's group. */
    public Builder consumerGroup(String group) {
      this.consumerGroup = group;
      return this;
    }

    /** How long cutover must hold before retire (default {@link #DEFAULT_HOLD}). */
    public Builder hold(Duration hold) {
      this.hold = hold;
      return this;
    }

    /** The topic when no configuration file maps the table. */
    public Builder topic(String topic) {
      this.topic = topic;
      return this;
    }

    /** Whether capture creates the replication slot (default true). */
    public Builder createSlot(boolean createSlot) {
      this.createSlot = createSlot;
      return this;
    }

    /** Validates and builds. */
    public TransitionOptions build() {
      return new TransitionOptions(
          force, reason, actor, window, settle, consumerGroup, hold, topic, createSlot);
    }
  }
}
