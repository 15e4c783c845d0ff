package dev.unpoll.mapping;

/** The root of every exception the mapping throws. Unchecked. */
public class MappingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An error with a message that says what happened and what to do. */
  public MappingException(String message) {
    super(message);
  }
}
