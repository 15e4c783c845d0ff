package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.GateFigures;
import dev.unpoll.migration.Reconciliation;
import java.sql.SQLException;
import java.util.List;

/**
 * dual → cutover: no missing event; no row in the window handled by the poller; no backlog; nothing
 * double-handled.
 */
final class CutoverStep implements PhaseStep {
  @Override
  public boolean needsConsumerGroup() {
    return true;
  }

  @Override
  public List<Gate> gates(GateContext ctx) throws SQLException {
    Reconciliation r = ctx.reconcile(ctx.current());
    return List.of(
        Gates.eventsComplete(r, ctx.settings().slot(), ctx.slotState()),
        noPollerClaims(r),
        backlogEmpty(r),
        Gates.noDoubleHandling(r));
  }

  private static Gate noPollerClaims(Reconciliation r) {
    long poller = r.pollerHandled();
    return new Gate(
        "no-poller-claims",
        poller == 0,
        poller == 0
            ? "the consumer handled every row in the window"
            : poller
                + " row(s) in the window were handled by the poller: stop the poller"
                + " and wait one window",
        new GateFigures.NoPollerClaims(poller, r.rows()));
  }

  private static Gate backlogEmpty(Reconciliation r) {
    long backlog = r.handling().backlog();
    List<String> keys = r.handling().backlogKeys();
    return new Gate(
        "backlog-empty",
        backlog == 0,
        backlog < 0
            ? "backlog not measurable: the mapping has no status column or no"
                + " pending and done values (set status.pending and status.done)"
            : backlog == 0
                ? "every row older than the settle time is in a done state"
                : backlog
                    + " row(s) older than the settle time are not in a done state"
                    + " (pending, in progress or failed): "
                    + keys
                    + (backlog > keys.size() ? "…" : "")
                    + "; wait for them to be handled, or reset rows the poller abandoned to"
                    + " pending",
        new GateFigures.BacklogEmpty(backlog, keys));
  }

  @Override
  public List<String> nextSteps(TableName table) {
    return List.of("the poller stays stopped; the consumer alone handles " + table.display());
  }

  @Override
  public List<String> rollbackNotes(RollbackContext ctx) {
    return List.of("start the poller again; poller and consumer claim rows as in dual");
  }
}
