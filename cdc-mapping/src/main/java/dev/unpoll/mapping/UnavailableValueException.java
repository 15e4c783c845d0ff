package dev.unpoll.mapping;

/**
 * An update or a delete that does not carry the value of a column: Debezium put its placeholder
 * where an unchanged out-of-line (TOAST) value was, because the table's old row image is not full.
 * The capture stops there rather than publish the placeholder as if it were the value.
 */
public class UnavailableValueException extends MappingException {
  private static final long serialVersionUID = 1L;

  /** An error whose message names the table, the key, the LSN, the column and the fix. */
  public UnavailableValueException(String message) {
    super(message);
  }
}
