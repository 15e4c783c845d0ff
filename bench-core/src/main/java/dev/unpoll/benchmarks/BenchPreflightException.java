package dev.unpoll.benchmarks;

import java.util.List;

/**
 * {@code unpoll bench} will not run on the user's servers, and has created nothing: each problem
 * names what is wrong and the fix.
 */
public final class BenchPreflightException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  BenchPreflightException(List<String> problems) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  /** What is wrong, one entry each, with its fix. */
  public List<String> problems() {
    return problems;
  }
}
