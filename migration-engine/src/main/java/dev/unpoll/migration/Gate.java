package dev.unpoll.migration;

import java.util.Objects;

/**
 * The result of one gate check of a phase transition.
 *
 * @param name stable identifier of the check ({@code events-complete}, {@code wal-level}, ...)
 * @param passed whether the check holds
 * @param detail one line saying what was measured and, when it failed, what fixes it
 * @param figures the measured numbers, one record per kind of gate (field names are the stable JSON
 *     keys documented in docs/cli.md)
 */
public record Gate(String name, boolean passed, String detail, GateFigures figures) {
  /** Checks the parts. */
  public Gate {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(detail, "detail");
    Objects.requireNonNull(figures, "figures");
  }
}
