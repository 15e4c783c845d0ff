package dev.unpoll.contract.config;

import java.util.List;

/**
 * The configuration file is invalid. {@link #problems()} lists every problem found, each naming the
 * setting's path, the bad value (secrets masked) and the fix. {@code unpoll relay} and the other
 * commands exit with 2.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  /** Creates the exception from the collected problems (at least one). */
  public ConfigException(List<String> problems) {
    super(format("invalid configuration", problems));
    this.problems = List.copyOf(problems);
  }

  /** Every problem found, one line each. */
  public List<String> problems() {
    return problems;
  }

  /**
   * {@code heading (N problems):} and one indented line per problem: how every unpoll module lists
   * what is wrong with its settings.
   */
  public static String format(String heading, List<String> problems) {
    StringBuilder sb =
        new StringBuilder(heading)
            .append(" (")
            .append(problems.size())
            .append(problems.size() == 1 ? " problem" : " problems")
            .append("):");
    for (String p : problems) {
      sb.append("\n  - ").append(p);
    }
    return sb.toString();
  }
}
