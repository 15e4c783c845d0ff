package dev.unpoll.consumer;

/**
 * Thrown by a handler (or wrapping another exception) when retrying cannot help: the record goes to
 * the dead-letter topic at once. Other exception types can be declared non-retryable with {@link
 * RetryPolicy.Builder#nonRetryable(Class)}.
 */
public class NonRetryableException extends ConsumerException {
  /** Creates an exception with a message. */
  public NonRetryableException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public NonRetryableException(String message, Throwable cause) {
    super(message, cause);
  }
}
