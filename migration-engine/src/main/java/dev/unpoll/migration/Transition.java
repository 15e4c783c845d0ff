package dev.unpoll.migration;

import dev.unpoll.contract.TableName;
import java.util.List;

/**
 * The outcome of a phase command: applied (gates passed or forced) or refused.
 *
 * @param table the table
 * @param from the phase before
 * @param to the phase asked for
 * @param applied whether the table is now in {@code to}
 * @param forced whether failing gates were overridden with {@code --force}
 * @param reason the reason recorded in the log, or null
 * @param gates every gate checked, passed or not
 * @param notes what was done and what the operator does next
 */
public record Transition(
    TableName table,
    Phase from,
    Phase to,
    boolean applied,
    boolean forced,
    String reason,
    List<Gate> gates,
    List<String> notes) {
  /** Copies the lists. */
  public Transition {
    gates = List.copyOf(gates);
    notes = List.copyOf(notes);
  }

  /** The gates that did not pass. */
  public List<Gate> failedGates() {
    return gates.stream().filter(g -> !g.passed()).toList();
  }
}
