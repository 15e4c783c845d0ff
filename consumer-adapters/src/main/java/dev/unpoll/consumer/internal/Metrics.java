package dev.unpoll.consumer.internal;

import dev.unpoll.consumer.ConsumerMetrics;
import dev.unpoll.consumer.Outcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Records the meters named in {@link ConsumerMetrics} for one consumer group. */
public final class Metrics {
  private final MeterRegistry registry;
  private final String group;

  /** Meters of {@code group} in {@code registry}. */
  public Metrics(MeterRegistry registry, String group) {
    this.registry = registry;
    this.group = group;
  }

  // meters are looked up once per (name, topic): registration is too slow for the per-event path
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  private Counter counter(String name, String topic) {
    return counters.computeIfAbsent(
        name + '\0' + topic,
        k ->
            Counter.builder(name)
                .tag(ConsumerMetrics.TAG_GROUP, group)
                .tag(ConsumerMetrics.TAG_TOPIC, topic)
                .register(registry));
  }

  private Timer timer(String name, String topic) {
    return timers.computeIfAbsent(
        name + '\0' + topic,
        k ->
            Timer.builder(name)
                .tag(ConsumerMetrics.TAG_GROUP, group)
                .tag(ConsumerMetrics.TAG_TOPIC, topic)
                .publishPercentileHistogram()
                .register(registry));
  }

  /** Counts an outcome after its transaction committed. */
  public void outcome(String topic, Outcome outcome) {
    String name =
        switch (outcome) {
          case HANDLED -> ConsumerMetrics.HANDLED;
          case DUPLICATE -> ConsumerMetrics.DUPLICATES;
          case POLLER_WON -> ConsumerMetrics.POLLER_WON;
          case ROW_DELETED -> ConsumerMetrics.ROW_DELETED;
          case SHADOWED -> ConsumerMetrics.SHADOWED;
          case SKIPPED_NO_KEY -> ConsumerMetrics.SKIPPED_NO_KEY;
        };
    counter(name, topic).increment();
  }

  /** Records handler time. */
  public void handlerLatency(String topic, long nanos) {
    timer(ConsumerMetrics.HANDLER_LATENCY, topic).record(Duration.ofNanos(nanos));
  }

  /** Records source commit → handled, if the event had a time and the clock did not go back. */
  public void endToEnd(String topic, Instant eventTime, Instant handledAt) {
    if (eventTime != null && !handledAt.isBefore(eventTime)) {
      timer(ConsumerMetrics.END_TO_END_LATENCY, topic)
          .record(Duration.between(eventTime, handledAt));
    }
  }

  /** Counts a claim that could not decide, by reason. */
  public void claimNotDecided(String topic, String reason) {
    counters
        .computeIfAbsent(
            ConsumerMetrics.CLAIM_NOT_DECIDED + '\0' + topic + '\0' + reason,
            k ->
                Counter.builder(ConsumerMetrics.CLAIM_NOT_DECIDED)
                    .tag(ConsumerMetrics.TAG_GROUP, group)
                    .tag(ConsumerMetrics.TAG_TOPIC, topic)
                    .tag(ConsumerMetrics.TAG_REASON, reason)
                    .register(registry))
        .increment();
  }

  /** Counts a retry. */
  public void retry(String topic) {
    counter(ConsumerMetrics.RETRIES, topic).increment();
  }

  /** Counts a dead-lettered event. */
  public void deadLettered(String topic) {
    counter(ConsumerMetrics.DEAD_LETTERED, topic).increment();
  }
}
