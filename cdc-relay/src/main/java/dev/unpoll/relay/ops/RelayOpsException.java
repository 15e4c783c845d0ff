package dev.unpoll.relay.ops;

/**
 * Unchecked exception of the relay's operations components: invalid settings given to a builder, or
 * a component used in a state that does not allow the call (for example after {@code close()}).
 */
public class RelayOpsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An exception with a message that says what happened and what to do. */
  public RelayOpsException(String message) {
    super(message);
  }

  /** An exception with a message and the cause. */
  public RelayOpsException(String message, Throwable cause) {
    super(message, cause);
  }
}
