package dev.unpoll.consumer;

/**
 * The root unchecked exception of unpoll's consumer adapters: invalid configuration, a failed
 * database operation, or a handler failure wrapped with the record's coordinates.
 */
public class ConsumerException extends RuntimeException {
  /** Creates an exception with a message. */
  public ConsumerException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public ConsumerException(String message, Throwable cause) {
    super(message, cause);
  }
}
