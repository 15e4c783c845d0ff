package dev.unpoll.migration;

import java.util.Map;

/**
 * The result of one gate check of a phase transition.
 *
 * @param name stable identifier of the check ({@code events-complete}, {@code wal-level}, ...)
 * @param passed whether the check holds
 * @param detail one line saying what was measured and, when it failed, what fixes it
 * @param figures the measured numbers (stable keys, documented in docs/cli.md)
 */
public record Gate(String name, boolean passed, String detail, Map<String, Object> figures) {
  /** Copies the figures. */
  public Gate {
    figures =
        figures == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(figures));
  }
}
