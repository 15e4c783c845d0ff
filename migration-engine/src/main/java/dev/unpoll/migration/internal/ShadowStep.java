package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Gate;
import java.sql.SQLException;
import java.util.List;

/** capturing → shadow: every row in the window has its event in the topic. */
final class ShadowStep implements PhaseStep {
  @Override
  public boolean needsConsumerGroup() {
    return true;
  }

  @Override
  public List<Gate> gates(GateContext ctx) throws SQLException {
    return List.of(
        Gates.eventsComplete(ctx.reconcile(ctx.current()), ctx.settings().slot(), ctx.slotState()));
  }

  @Override
  public List<String> nextSteps(TableName table) {
    return List.of(
        "start the consumer in shadow mode: it records events in unpoll_shadow_ledger only");
  }

  @Override
  public List<String> rollbackNotes(RollbackContext ctx) {
    return List.of("stop the shadow consumer; the poller never stopped");
  }
}
