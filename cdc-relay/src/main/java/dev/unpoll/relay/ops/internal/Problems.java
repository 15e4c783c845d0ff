package dev.unpoll.relay.ops.internal;

import dev.unpoll.relay.ops.RelayOpsException;
import java.util.ArrayList;
import java.util.List;

/** Collects every invalid setting of a builder before failing once with all of them. */
public final class Problems {
  private final String component;
  private final List<String> problems = new ArrayList<>();

  public Problems(String component) {
    this.component = component;
  }

  /** Records {@code setting: value is wrong (fix)} when {@code bad} holds. */
  public Problems check(boolean bad, String setting, Object value, String fix) {
    if (bad) {
      problems.add(setting + ": " + value + " (" + fix + ")");
    }
    return this;
  }

  /** Throws one {@link RelayOpsException} listing every recorded problem, if any. */
  public void throwIfAny() {
    if (!problems.isEmpty()) {
      throw new RelayOpsException(
          component
              + " has "
              + problems.size()
              + " invalid setting(s):\n  - "
              + String.join("\n  - ", problems));
    }
  }
}
