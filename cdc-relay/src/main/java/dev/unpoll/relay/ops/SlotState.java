package dev.unpoll.relay.ops;

/** What {@link SlotMonitor} found when it last looked at the replication slot. */
public enum SlotState {
  /** Not polled yet. */
  NOT_CHECKED(false),
  /**
   * The slot exists and PostgreSQL still keeps the WAL it needs ({@code wal_status}
   * reserved/extended).
   */
  OK(false),
  /**
   * The slot exists but retains more than {@code max_slot_wal_keep_size} ({@code wal_status =
   * 'unreserved'}): it is lost at the next checkpoint unless the relay catches up.
   */
  AT_RISK(false),
  /**
   * No logical slot of that name in this database: the relay must stop and must not recreate it
   * silently.
   */
  MISSING(true),
  /**
   * The slot was invalidated ({@code wal_status = 'lost'} or an {@code invalidation_reason}): the
   * WAL it needed is gone, so changes were lost; the relay must stop.
   */
  LOST(true),
  /** The database could not be queried; the slot's state is unknown. */
  UNREACHABLE(false);

  private final boolean fatal;

  SlotState(boolean fatal) {
    this.fatal = fatal;
  }

  /**
   * True when the relay cannot stream from the slot and must stop ({@link #MISSING}, {@link
   * #LOST}).
   */
  public boolean fatal() {
    return fatal;
  }
}
