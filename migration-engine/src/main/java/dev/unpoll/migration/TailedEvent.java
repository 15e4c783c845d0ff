package dev.unpoll.migration;

import java.time.Instant;
import java.util.List;

/**
 * One record of a topic as {@code unpoll tail} shows it: coordinates, key, headers and value, as
 * UTF-8 text.
 *
 * @param topic the topic
 * @param partition the partition
 * @param offset the offset
 * @param timestamp the record's timestamp
 * @param key the key, or null
 * @param headers the headers, in order (a name may repeat)
 * @param value the value, or null
 */
public record TailedEvent(
    String topic,
    int partition,
    long offset,
    Instant timestamp,
    String key,
    List<Header> headers,
    String value) {
  /** Copies the list. */
  public TailedEvent {
    headers = List.copyOf(headers);
  }

  /**
   * One header.
   *
   * @param name the header's name
   * @param value its value as UTF-8 text, or null
   */
  public record Header(String name, String value) {}
}
