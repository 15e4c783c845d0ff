package dev.unpoll.relay.ops;

import java.time.Instant;
import java.util.Objects;

/**
 * One observation of a replication slot by {@link SlotMonitor}.
 *
 * @param slotName the slot
 * @param state what was found
 * @param active true while a walsender (the relay) is connected to the slot
 * @param walStatus {@code pg_replication_slots.wal_status} ({@code reserved}, {@code extended},
 *     {@code unreserved}, {@code lost}), or null when the slot was not found
 * @param retainedWalBytes {@code pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)}: WAL the
 *     server keeps for this slot; -1 when unknown
 * @param lagBytes {@code pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)}: WAL written
 *     but not yet confirmed by the relay; -1 when unknown
 * @param overThreshold true when {@code retainedWalBytes} passed the configured warning threshold
 * @param checkedAt when the observation was made
 * @param message what was found, in words an operator can act on
 */
public record SlotStatus(
    String slotName,
    SlotState state,
    boolean active,
    String walStatus,
    long retainedWalBytes,
    long lagBytes,
    boolean overThreshold,
    Instant checkedAt,
    String message) {

  /** Checks the required parts are present. */
  public SlotStatus {
    Objects.requireNonNull(slotName, "slotName");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(checkedAt, "checkedAt");
    Objects.requireNonNull(message, "message");
  }
}
