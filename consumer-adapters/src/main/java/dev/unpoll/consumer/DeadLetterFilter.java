package dev.unpoll.consumer;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Which records of a dead-letter topic to select; every condition given must hold. Immutable:
 * {@code DeadLetterFilter.all().withGroup("billing").withSince(t)}.
 *
 * @param group the consumer group that gave up on the record ({@link
 *     DeadLetterHeaders#CONSUMER_GROUP}), or null for any
 * @param since records dead-lettered at or after this time, or null for any
 * @param key the record key as UTF-8 text, or null for any
 * @param positions {@code partition:offset} positions in the dead-letter topic, empty for any
 */
public record DeadLetterFilter(String group, Instant since, String key, List<Position> positions) {

  /** A record's place in the dead-letter topic. */
  public record Position(int partition, long offset) {
    /** Validates. */
    public Position {
      if (partition < 0 || offset < 0) {
        throw new IllegalArgumentException(
            "position " + partition + ":" + offset + " must have partition and offset >= 0");
      }
    }

    /**
     * Reads {@code partition:offset}, e.g. {@code 0:42}.
     *
     * @throws IllegalArgumentException naming the expected form
     */
    public static Position parse(String text) {
      String t = text == null ? "" : text.trim();
      int colon = t.indexOf(':');
      try {
        if (colon > 0) {
          return new Position(
              Integer.parseInt(t.substring(0, colon)), Long.parseLong(t.substring(colon + 1)));
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(
          "'" + text + "' is not a position; use <partition>:<offset>, e.g. 0:42");
    }

    @Override
    public String toString() {
      return partition + ":" + offset;
    }
  }

  /** Copies the positions; null is none. */
  public DeadLetterFilter {
    positions = positions == null ? List.of() : List.copyOf(positions);
  }

  /** Every record. */
  public static DeadLetterFilter all() {
    return new DeadLetterFilter(null, null, null, List.of());
  }

  /** Only records the consumer group {@code group} gave up on. */
  public DeadLetterFilter withGroup(String group) {
    return new DeadLetterFilter(group, since, key, positions);
  }

  /** Only records dead-lettered at or after {@code since}. */
  public DeadLetterFilter withSince(Instant since) {
    return new DeadLetterFilter(group, since, key, positions);
  }

  /** Only records with this key (UTF-8 text). */
  public DeadLetterFilter withKey(String key) {
    return new DeadLetterFilter(group, since, key, positions);
  }

  /** Also the record at {@code partition:offset} (positions add up; any of them matches). */
  public DeadLetterFilter withPosition(Position position) {
    List<Position> more = new ArrayList<>(positions);
    more.add(Objects.requireNonNull(position, "position"));
    return new DeadLetterFilter(group, since, key, more);
  }

  /** Whether {@code d} is selected. */
  public boolean matches(DeadLetter d) {
    if (group != null && !d.consumerGroup().map(group::equals).orElse(false)) {
      return false;
    }
    if (since != null && d.time().isBefore(since)) {
      return false;
    }
    if (key != null && !key.equals(d.keyAsString())) {
      return false;
    }
    return positions.isEmpty() || positions.contains(new Position(d.partition(), d.offset()));
  }
}
