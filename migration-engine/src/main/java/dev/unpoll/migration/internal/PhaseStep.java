package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.Phase;
import java.sql.SQLException;
import java.util.List;

/**
 * Entering one phase: the gates that guard it, what the operator does after it, and what rolling
 * back out of it means. One implementation per phase after {@link Phase#ANALYZED}; {@link
 * PhaseMachine} runs them.
 */
interface PhaseStep {
  /** The step that enters {@code phase}. */
  static PhaseStep entering(Phase phase) {
    switch (phase) {
      case CAPTURING:
        return new CaptureStep();
      case SHADOW:
        return new ShadowStep();
      case DUAL:
        return new DualStep();
      case CUTOVER:
        return new CutoverStep();
      case RETIRED:
        return new RetireStep();
      default:
        throw new IllegalArgumentException("no step enters " + phase.id());
    }
  }

  /** Whether the gates compare the new consumer's records, so a consumer group is required. */
  boolean needsConsumerGroup();

  /** The gates to enter the phase, every one of them checked (passed or not). */
  List<Gate> gates(GateContext context) throws SQLException;

  /** What the operator does once the table is in the phase. */
  List<String> nextSteps(TableName table);

  /** What rolling back out of the phase did and what the operator does then. */
  List<String> rollbackNotes(RollbackContext context) throws SQLException;
}
