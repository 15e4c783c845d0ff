package dev.unpoll.samples.notifications;

import dev.unpoll.contract.Topics;
import java.util.Locale;

/** A notification channel; each has its own worker, consumer group and dead-letter topic. */
public enum Channel {
  EMAIL,
  SMS,
  WHATSAPP;

  /** The worker's consumer group, e.g. {@code notify-sms}. */
  public String group() {
    return "notify-" + id();
  }

  /** The lower-case name, e.g. {@code sms}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The worker's own dead-letter topic, e.g. {@code outbox.video.notify-sms.DLT}: three groups read
   * one topic, so the default {@code <topic>.DLT} would mix their failures, and a replay would
   * reach all three workers instead of the one that failed.
   */
  public String deadLetterTopic(String topic) {
    return Topics.deadLetterTopic(topic + "." + group());
  }
}
