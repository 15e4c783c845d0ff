package dev.unpoll.migration;

import java.util.Locale;
import java.util.Optional;

/**
 * The phases of one legacy table's migration, in order. A table moves forward one phase at a time,
 * each move behind a gate, and {@code rollback} moves it back one phase.
 */
public enum Phase {
  /** Nothing new runs; the table has been looked at (the state of a table unpoll has not seen). */
  ANALYZED,
  /** The relay publishes the table's new rows; the poller is unchanged. */
  CAPTURING,
  /** A new consumer receives the events and records them in its shadow ledger, no side effects. */
  SHADOW,
  /** Poller and consumer both live; the claim on the status column decides who handles a row. */
  DUAL,
  /** The poller is stopped; the consumer alone handles the rows. */
  CUTOVER,
  /** Bookkeeping columns and the cleanup job are no longer needed; dedupe store only. */
  RETIRED;

  /** The lower-case name used on the command line, in the database and in JSON. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The phase after this one, if any. */
  public Optional<Phase> next() {
    return ordinal() + 1 < values().length
        ? Optional.of(values()[ordinal() + 1])
        : Optional.empty();
  }

  /** The phase before this one, if any. */
  public Optional<Phase> previous() {
    return ordinal() > 0 ? Optional.of(values()[ordinal() - 1]) : Optional.empty();
  }

  /** Parses {@link #id()}; throws {@link MigrationException} for an unknown phase. */
  public static Phase fromId(String id) {
    for (Phase p : values()) {
      if (p.id().equals(id)) {
        return p;
      }
    }
    throw new MigrationException("unknown phase '" + id + "' in unpoll.migration");
  }
}
