package dev.unpoll.relay;

/**
 * The replication slot or the publication is not usable: the slot is missing although offsets
 * exist, the slot was invalidated, or the publication lacks a captured table. The message says what
 * happened and what to run. {@code unpoll relay} exits with 3.
 */
public final class RelaySlotException extends RelayException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names the slot or publication and the fix. */
  public RelaySlotException(String message) {
    super(message);
  }
}
