package dev.unpoll.relay;

import dev.unpoll.contract.config.ConfigException;
import java.util.List;

/**
 * The configuration does not fit the source database (a mapped table or column is missing, the
 * backlog ledger cannot be created, ...). {@link #problems()} lists every problem found, each
 * naming the setting's path, the bad value and the fix. {@code unpoll relay} exits with 2. Problems
 * in the file itself are a {@link ConfigException}.
 */
public final class RelayConfigException extends RelayException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  /** Creates the exception from the collected problems (at least one). */
  public RelayConfigException(List<String> problems) {
    super(ConfigException.format("invalid relay configuration", problems));
    this.problems = List.copyOf(problems);
  }

  /** Every problem found, one line each. */
  public List<String> problems() {
    return problems;
  }
}
