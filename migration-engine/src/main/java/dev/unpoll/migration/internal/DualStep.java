package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.Reconciliation;
import java.sql.SQLException;
import java.util.List;

/**
 * shadow → dual: no missing event; every row the poller handled is in the shadow ledger; latency
 * figures (informational).
 */
final class DualStep implements PhaseStep {
  @Override
  public boolean needsConsumerGroup() {
    return true;
  }

  @Override
  public List<Gate> gates(GateContext ctx) throws SQLException {
    Reconciliation r = ctx.reconcile(ctx.current());
    return List.of(
        Gates.eventsComplete(r, ctx.settings().slot(), ctx.slotState()),
        Gates.ledgerMatches(r),
        Gates.latency(r));
  }

  @Override
  public List<String> nextSteps(TableName table) {
    return List.of(
        "switch the consumer to dual mode: it claims rows through the status column and"
            + " handles them; the poller keeps running");
  }

  @Override
  public List<String> rollbackNotes(RollbackContext ctx) {
    return List.of(
        "switch the consumer back to shadow mode (record only, no side effects); the poller"
            + " handles every row again");
  }
}
