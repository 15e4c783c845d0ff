package dev.unpoll.consumer;

import java.util.Objects;
import java.util.Optional;

/** Finds the idempotency key of an event. The default is {@link #ceId()}. */
@FunctionalInterface
public interface KeyExtractor {
  /** The key, or empty when the event has none. */
  Optional<String> key(InboundEvent event);

  /** The {@code ce_id} header, as the relay and the outbox write it. */
  static KeyExtractor ceId() {
    return header(InboundEvent.CE_ID);
  }

  /** A header of another name. */
  static KeyExtractor header(String name) {
    Objects.requireNonNull(name, "name");
    return event -> event.header(name).filter(s -> !s.isEmpty());
  }

  /**
   * {@code <topic>:<record key>}: for producers that send no idempotency header but whose record
   * key identifies the change.
   */
  static KeyExtractor topicAndRecordKey() {
    return event ->
        Optional.ofNullable(event.keyAsString())
            .filter(s -> !s.isEmpty())
            .map(k -> event.topic() + ":" + k);
  }
}
