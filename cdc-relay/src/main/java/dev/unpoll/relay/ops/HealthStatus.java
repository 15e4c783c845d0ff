package dev.unpoll.relay.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The answer of one health or readiness check: up or down, and a short reason an operator can act
 * on (it appears in the JSON body of {@code /health} and {@code /ready}; never put secrets in it).
 *
 * @param up true when the check passes
 * @param reason why, in a few words (for example {@code streaming} or {@code slot "x" is missing})
 */
public record HealthStatus(boolean up, String reason) {

  /** Checks the reason is present. */
  public HealthStatus {
    Objects.requireNonNull(reason, "reason");
  }

  /** A passing check. */
  public static HealthStatus up(String reason) {
    return new HealthStatus(true, reason);
  }

  /** A failing check. */
  public static HealthStatus down(String reason) {
    return new HealthStatus(false, reason);
  }

  /**
   * A check that is up only when every given check is up; it reports the first failing check's
   * reason, or the reasons of all checks joined with {@code "; "} when all pass.
   */
  @SafeVarargs
  public static Supplier<HealthStatus> allOf(Supplier<HealthStatus>... checks) {
    List<Supplier<HealthStatus>> all = new ArrayList<>(checks.length);
    for (Supplier<HealthStatus> check : checks) {
      all.add(Objects.requireNonNull(check, "check"));
    }
    return () -> {
      StringBuilder reasons = new StringBuilder();
      for (Supplier<HealthStatus> check : all) {
        HealthStatus s = check.get();
        if (s == null || !s.up()) {
          return s == null ? down("a check returned no status") : s;
        }
        if (reasons.length() > 0) {
          reasons.append("; ");
        }
        reasons.append(s.reason());
      }
      return up(reasons.toString());
    };
  }
}
