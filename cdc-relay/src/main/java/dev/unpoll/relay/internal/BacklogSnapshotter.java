package dev.unpoll.relay.internal;

import io.debezium.spi.snapshot.Snapshotter;
import java.util.Map;

/**
 * Debezium snapshot mode {@value #NAME}: reads the backlog tables' pending rows once more, then
 * streams from where the relay stopped, not from the snapshot's position. Used whenever a backlog
 * is due and the slot already exists: a backlog interrupted on a previous run, a table added to the
 * configuration, or a slot created ahead of the relay by {@code unpoll capture}.
 *
 * <p>Debezium's {@code initial} mode would re-run an interrupted snapshot too, but it never
 * snapshots a table added later, and {@code configuration_based} streams from the snapshot's
 * position. With {@link #shouldStreamEventsStartingFromSnapshot()} false Debezium keeps the stored
 * offsets (or, without offsets, the slot's confirmed position) as the streaming start, so no change
 * committed while the relay was away or while the snapshot ran is skipped.
 */
public final class BacklogSnapshotter implements Snapshotter {

  /** The name set as {@code snapshot.mode.custom.name}. */
  public static final String NAME = "unpoll_backlog";

  /** Loaded by Debezium through {@link java.util.ServiceLoader}. */
  public BacklogSnapshotter() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void configure(Map<String, ?> properties) {}

  @Override
  public boolean shouldSnapshotData(boolean offsetExists, boolean snapshotInProgress) {
    return true;
  }

  @Override
  public boolean shouldSnapshotSchema(boolean offsetExists, boolean snapshotInProgress) {
    return true;
  }

  @Override
  public boolean shouldStream() {
    return true;
  }

  @Override
  public boolean shouldSnapshotOnSchemaError() {
    return false;
  }

  @Override
  public boolean shouldSnapshotOnDataError() {
    return false;
  }

  @Override
  public boolean shouldStreamEventsStartingFromSnapshot() {
    return false;
  }
}
