package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Durations;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.GateFigures;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Reconciliation;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * cutover → retired: cutover has held for the agreed time; no missing event, nothing unhandled or
 * double-handled.
 */
final class RetireStep implements PhaseStep {
  @Override
  public boolean needsConsumerGroup() {
    return true;
  }

  @Override
  public List<Gate> gates(GateContext ctx) throws SQLException {
    Instant since =
        ControlSchema.entered(ctx.connection(), ctx.info().table(), Phase.CUTOVER)
            .orElse(Instant.now());
    Duration held = Duration.between(since, Db.now(ctx.connection()));
    Duration hold = ctx.options().hold();
    Gate cutoverHeld =
        new Gate(
            "cutover-held",
            held.compareTo(hold) >= 0,
            "cutover has held for "
                + Durations.format(held)
                + " of the agreed "
                + Durations.format(hold)
                + " (--hold)",
            new GateFigures.CutoverHeld(held.toSeconds(), hold.toSeconds()));
    Reconciliation r = ctx.reconcile(Phase.CUTOVER);
    return List.of(
        cutoverHeld,
        Gates.eventsComplete(r, ctx.settings().slot(), ctx.slotState()),
        allHandled(r),
        Gates.noDoubleHandling(r));
  }

  private static Gate allHandled(Reconciliation r) {
    Reconciliation.Handling h = r.handling();
    return new Gate(
        "all-handled",
        h.unhandled() == 0,
        h.unhandled() + " row(s) older than the settle time were handled by nobody",
        new GateFigures.AllHandled(h.unhandled(), h.unhandledKeys()));
  }

  @Override
  public List<String> nextSteps(TableName table) {
    return List.of(
        "the cleanup job and bookkeeping columns can go; the consumer dedupes with"
            + " unpoll_processed");
  }

  @Override
  public List<String> rollbackNotes(RollbackContext ctx) {
    return List.of("restore the bookkeeping columns and cleanup job if they were removed");
  }
}
