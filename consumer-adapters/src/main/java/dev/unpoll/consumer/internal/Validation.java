package dev.unpoll.consumer.internal;

import dev.unpoll.consumer.ConsumerException;
import java.util.List;

/** Turns collected configuration problems into one exception. */
public final class Validation {
  private Validation() {}

  /** Throws one {@link ConsumerException} listing every problem, if there are any. */
  public static void throwIfAny(String what, List<String> problems) {
    if (!problems.isEmpty()) {
      throw new ConsumerException(
          "invalid " + what + " configuration:\n  - " + String.join("\n  - ", problems));
    }
  }
}
