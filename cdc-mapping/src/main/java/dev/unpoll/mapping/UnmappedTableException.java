package dev.unpoll.mapping;

/**
 * A change of a table the publication holds but the configuration does not map: the capture stops
 * there rather than skip it, because moving the offsets past its rows would lose them for good.
 */
public class UnmappedTableException extends MappingException {
  private static final long serialVersionUID = 1L;

  /** An error whose message names the table and the fix. */
  public UnmappedTableException(String message) {
    super(message);
  }
}
