package dev.unpoll.consumer.internal;

import dev.unpoll.consumer.BatchFailedException;
import dev.unpoll.consumer.ConsumerException;
import dev.unpoll.consumer.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/** Builds the failure headers of a dead-letter record. */
public final class DeadLetters {
  private static final int MAX_MESSAGE_CHARS = 4_000;

  private DeadLetters() {}

  /**
   * The failure that explains the dead letter: unpoll's own wrappers (a plain {@link
   * ConsumerException} with a cause) are peeled off so the header names the handler's exception.
   */
  public static Throwable explain(Throwable failure) {
    Throwable t = failure;
    while ((t.getClass() == ConsumerException.class || t instanceof BatchFailedException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** unpoll's failure headers for a record of {@code topic-partition@offset}. */
  public static List<Header> headers(
      String group, String topic, int partition, long offset, Throwable failure, int attempts) {
    Throwable t = explain(failure);
    String message = t.getMessage() == null ? "" : t.getMessage();
    if (message.length() > MAX_MESSAGE_CHARS) {
      message = message.substring(0, MAX_MESSAGE_CHARS);
    }
    List<Header> h = new ArrayList<>();
    h.add(header(DeadLetterHeaders.EXCEPTION_CLASS, t.getClass().getName()));
    h.add(header(DeadLetterHeaders.EXCEPTION_MESSAGE, message));
    h.add(header(DeadLetterHeaders.ATTEMPTS, Integer.toString(attempts)));
    h.add(header(DeadLetterHeaders.ORIGINAL_TOPIC, topic));
    h.add(header(DeadLetterHeaders.ORIGINAL_PARTITION, Integer.toString(partition)));
    h.add(header(DeadLetterHeaders.ORIGINAL_OFFSET, Long.toString(offset)));
    h.add(header(DeadLetterHeaders.CONSUMER_GROUP, group));
    return h;
  }

  private static Header header(String name, String value) {
    return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
