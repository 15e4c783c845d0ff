package dev.unpoll.spring.boot;

/**
 * The root unchecked exception of the starter: a setting or a bean that cannot work together with
 * the application's context. The message names the setting, what is wrong and the fix.
 */
public class UnpollStarterException extends RuntimeException {
  /** Creates an exception with a message. */
  public UnpollStarterException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public UnpollStarterException(String message, Throwable cause) {
    super(message, cause);
  }
}
