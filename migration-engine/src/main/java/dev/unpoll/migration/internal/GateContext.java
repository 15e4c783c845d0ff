package dev.unpoll.migration.internal;

import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Progress;
import dev.unpoll.migration.Reconciliation;
import dev.unpoll.migration.TransitionOptions;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;

/**
 * What a {@link PhaseStep}'s gates look at.
 *
 * @param connection the connection, auto-commit on
 * @param settings the engine's settings
 * @param info the table
 * @param mapping the table's resolved mapping
 * @param options the command's options
 * @param consumerGroup the new consumer's group, or null
 * @param current the table's phase now
 */
record GateContext(
    Connection connection,
    Settings settings,
    TableInfo info,
    Mapping mapping,
    TransitionOptions options,
    String consumerGroup,
    Phase current) {

  /** The reconciliation over the options' window, for the table in {@code phase}. */
  Reconciliation reconcile(Phase phase) throws SQLException {
    Instant from = Verifier.windowStart(connection, info.table(), options.window());
    return Verifier.run(
        connection,
        settings,
        new Verifier.Request(info, mapping, from, options.settle(), consumerGroup, phase),
        Progress.NONE);
  }

  /** The relay slot's state as gate figures say it: active, inactive or missing. */
  String slotState() throws SQLException {
    return Replication.slot(connection, settings.slot())
        .map(sl -> sl.active() ? "active" : "inactive")
        .orElse("missing");
  }
}
