package dev.unpoll.contract;

/**
 * Kafka topic names the modules agree on: the consumers write dead letters to {@link
 * #deadLetterTopic}, {@code unpoll dlt} reads it, {@code unpoll status} counts it.
 */
public final class Topics {
  /** Suffix of the default dead-letter topic: {@value}, as in {@code orders.DLT}. */
  public static final String DEAD_LETTER_SUFFIX = ".DLT";

  private Topics() {}

  /** The default dead-letter topic of {@code topic}: {@code <topic>.DLT}. */
  public static String deadLetterTopic(String topic) {
    return topic + DEAD_LETTER_SUFFIX;
  }
}
