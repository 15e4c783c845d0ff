package dev.unpoll.cli;

/**
 * The one unchecked exception of the CLI: a problem the user can act on, with the exit code the
 * {@code unpoll} command ends with. Its message is one line, printed without a stack trace (unless
 * {@code --verbose}); it never contains a password.
 */
public class UnpollCliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int exitCode;

  /** A failure with exit code {@link Unpoll#EXIT_FAILURE}. */
  public UnpollCliException(String message) {
    this(Unpoll.EXIT_FAILURE, message, null);
  }

  /** A failure with exit code {@link Unpoll#EXIT_FAILURE} caused by {@code cause}. */
  public UnpollCliException(String message, Throwable cause) {
    this(Unpoll.EXIT_FAILURE, message, cause);
  }

  /** A failure with the given exit code (one of the {@code Unpoll.EXIT_*} constants). */
  public UnpollCliException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** A usage problem (bad option value, invalid name): exit code {@link Unpoll#EXIT_USAGE}. */
  public static UnpollCliException usage(String message) {
    return new UnpollCliException(Unpoll.EXIT_USAGE, message, null);
  }

  /** The exit code the command ends with. */
  public int exitCode() {
    return exitCode;
  }
}
