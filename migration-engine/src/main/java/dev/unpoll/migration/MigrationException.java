package dev.unpoll.migration;

import java.util.Objects;

/**
 * The one unchecked exception of the migration engine: a problem the user can act on. Its message
 * is one line naming the problem and the fix; it never contains a password. Its {@link Kind} says
 * what kind of problem it is (the {@code unpoll} command turns it into its exit code).
 */
public class MigrationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of problem. */
  public enum Kind {
    /** Bad usage: an option value, a table name or a configuration entry is invalid. */
    USAGE,
    /** A check or a gate failed: the table is not ready for what was asked. */
    CHECK_FAILED,
    /** Anything else: server unreachable, wrong password, missing table, ... */
    FAILURE
  }

  private final Kind kind;

  /** A failure of kind {@link Kind#FAILURE}. */
  public MigrationException(String message) {
    this(Kind.FAILURE, message, null);
  }

  /** A failure of kind {@link Kind#FAILURE} caused by {@code cause}. */
  public MigrationException(String message, Throwable cause) {
    this(Kind.FAILURE, message, cause);
  }

  /** A failure of the given kind. */
  public MigrationException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** A usage problem (bad option value, invalid name): kind {@link Kind#USAGE}. */
  public static MigrationException usage(String message) {
    return new MigrationException(Kind.USAGE, message, null);
  }

  /** A failed check or gate: kind {@link Kind#CHECK_FAILED}. */
  public static MigrationException checkFailed(String message) {
    return new MigrationException(Kind.CHECK_FAILED, message, null);
  }

  /** What kind of problem this is. */
  public Kind kind() {
    return kind;
  }
}
