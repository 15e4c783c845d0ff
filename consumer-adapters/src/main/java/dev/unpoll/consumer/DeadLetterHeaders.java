package dev.unpoll.consumer;

/**
 * Headers unpoll adds to a dead-letter record, next to the original record's key, value and
 * headers. The plain runner and the Spring defaults write the same ones. Values are UTF-8 text.
 */
public final class DeadLetterHeaders {
  /** Fully qualified class name of the failure. */
  public static final String EXCEPTION_CLASS = "unpoll_dlt_exception_class";

  /** The failure's message (may be empty). */
  public static final String EXCEPTION_MESSAGE = "unpoll_dlt_exception_message";

  /** How many times the record was tried, as a decimal number. */
  public static final String ATTEMPTS = "unpoll_dlt_attempts";

  /** Topic of the original record. */
  public static final String ORIGINAL_TOPIC = "unpoll_dlt_original_topic";

  /** Partition of the original record, decimal. */
  public static final String ORIGINAL_PARTITION = "unpoll_dlt_original_partition";

  /** Offset of the original record, decimal. */
  public static final String ORIGINAL_OFFSET = "unpoll_dlt_original_offset";

  /** Consumer group that gave up on the record. */
  public static final String CONSUMER_GROUP = "unpoll_dlt_consumer_group";

  /** Header a replayed record carries: {@code <dlt>:<partition>:<offset>} it was replayed from. */
  public static final String REPLAYED_FROM = "unpoll_replayed_from";

  /** Header a replayed record carries: when it was replayed, ISO-8601 UTC. */
  public static final String REPLAYED_AT = "unpoll_replayed_at";

  /** Suffix of the default dead-letter topic: {@code <topic>.DLT}. */
  public static final String DEFAULT_TOPIC_SUFFIX = dev.unpoll.contract.Topics.DEAD_LETTER_SUFFIX;

  private DeadLetterHeaders() {}
}
