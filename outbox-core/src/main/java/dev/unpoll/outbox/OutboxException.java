package dev.unpoll.outbox;

/**
 * The root exception of unpoll-outbox-core: bad configuration, an event that cannot be written, a
 * write attempted outside a transaction, or a database error while writing. Unchecked, so it rolls
 * back a Spring {@code @Transactional} method by default.
 */
public class OutboxException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An error described by {@code message}. */
  public OutboxException(String message) {
    super(message);
  }

  /** An error described by {@code message}, caused by {@code cause}. */
  public OutboxException(String message, Throwable cause) {
    super(message, cause);
  }
}
