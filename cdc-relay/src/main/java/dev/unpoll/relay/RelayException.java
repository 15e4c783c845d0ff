package dev.unpoll.relay;

/** The root of every exception the relay throws. Unchecked. */
public class RelayException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An error with a message that says what happened and what to do. */
  public RelayException(String message) {
    super(message);
  }

  /** An error with a message and its cause. */
  public RelayException(String message, Throwable cause) {
    super(message, cause);
  }
}
