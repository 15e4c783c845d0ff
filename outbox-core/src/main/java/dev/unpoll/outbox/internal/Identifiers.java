package dev.unpoll.outbox.internal;

/**
 * SQL identifiers from configuration: validated by the contract's one rule, then always
 * double-quoted (so {@code order} or {@code OrderOutbox} work as written and nothing is ever
 * interpreted as SQL).
 */
public final class Identifiers {
  /** PostgreSQL's NAMEDATALEN - 1; longer names are silently truncated by the server. */
  public static final int MAX_BYTES = dev.unpoll.contract.Identifiers.MAX_BYTES;

  private Identifiers() {}

  /** Null when {@code name} is acceptable, otherwise why not. */
  public static String problem(String name) {
    return dev.unpoll.contract.Identifiers.problem(name);
  }

  /** {@code name} in double quotes, embedded quotes doubled. */
  public static String quote(String name) {
    return dev.unpoll.contract.Identifiers.quote(name);
  }
}
