package dev.unpoll.consumer.spring;

import dev.unpoll.consumer.DeadLetterHeaders;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.consumer.internal.DatabaseUnavailable;
import dev.unpoll.consumer.internal.DeadLetters;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.listener.ConsumerAwareRecordRecoverer;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.ListenerExecutionFailedException;
import org.springframework.kafka.listener.RetryListener;
import org.springframework.util.backoff.BackOff;
import org.springframework.util.backoff.ExponentialBackOff;
import org.springframework.util.backoff.FixedBackOff;

/**
 * Ready Spring Kafka defaults with the plain runner's conventions: retries and backoff from a
 * {@link RetryPolicy}, the same non-retryable exceptions, and a dead-letter topic {@code
 * <topic>.DLT} (partition chosen by the producer from the original key) whose records carry the
 * original key, value and headers plus {@link DeadLetterHeaders} (next to Spring's own {@code
 * kafka_dlt-*} headers).
 */
public final class SpringKafkaDefaults {
  private SpringKafkaDefaults() {}

  /** Exponential backoff with jitter, stopping after {@code maxAttempts - 1} retries. */
  public static BackOff backOff(RetryPolicy policy) {
    ExponentialBackOff b =
        new ExponentialBackOff(policy.initialBackoff().toMillis(), policy.multiplier());
    b.setMaxInterval(policy.maxBackoff().toMillis());
    b.setJitter(policy.jitter().toMillis());
    b.setMaxAttempts(policy.maxAttempts() - 1L);
    b.setMaxElapsedTime(Long.MAX_VALUE);
    return b;
  }

  /** A recoverer publishing to {@code <topic>.DLT} with unpoll's failure headers. */
  public static DeadLetterPublishingRecoverer deadLetterRecoverer(
      KafkaOperations<?, ?> template, IdempotentConsumer consumer, RetryPolicy policy) {
    Objects.requireNonNull(template, "template");
    Objects.requireNonNull(consumer, "consumer");
    Objects.requireNonNull(policy, "policy");
    DeadLetterPublishingRecoverer recoverer =
        new DeadLetterPublishingRecoverer(
            template,
            (record, ex) ->
                new TopicPartition(record.topic() + DeadLetterHeaders.DEFAULT_TOPIC_SUFFIX, -1));
    recoverer.addHeadersFunction(
        (record, ex) -> {
          Throwable failure = unwrap(ex);
          int attempts = policy.isRetryable(failure) ? policy.maxAttempts() : 1;
          Headers headers = new RecordHeaders();
          DeadLetters.headers(
                  consumer.consumerGroup(),
                  record.topic(),
                  record.partition(),
                  record.offset(),
                  failure,
                  attempts)
              .forEach(headers::add);
          return headers;
        });
    return recoverer;
  }

  /**
   * A {@link DefaultErrorHandler} with {@link #backOff}, the policy's non-retryable exceptions, the
   * {@link #deadLetterRecoverer}, and retry and dead-letter counting in the consumer's metrics (a
   * dead letter is counted once the broker acknowledged it).
   */
  public static DefaultErrorHandler errorHandler(
      KafkaOperations<?, ?> template, IdempotentConsumer consumer, RetryPolicy policy) {
    DeadLetterPublishingRecoverer deadLetters = deadLetterRecoverer(template, consumer, policy);
    ConsumerAwareRecordRecoverer countingRecoverer =
        (record, kafkaConsumer, ex) -> {
          deadLetters.accept(record, kafkaConsumer, ex); // throws if the send failed
          consumer.recordDeadLetter(record.topic());
        };
    DefaultErrorHandler handler = new DefaultErrorHandler(countingRecoverer, backOff(policy));
    // the consumer's own database away is not the record's fault: retried until it is back,
    // never dead-lettered (each retry is a seek and a new poll, so the member stays in its group)
    BackOff whileUnavailable =
        new FixedBackOff(policy.maxBackoff().toMillis(), FixedBackOff.UNLIMITED_ATTEMPTS);
    handler.setBackOffFunction(
        (record, ex) -> DatabaseUnavailable.is(unwrap(ex)) ? whileUnavailable : null);
    for (Class<? extends Throwable> type : policy.nonRetryable()) {
      if (Exception.class.isAssignableFrom(type)) {
        handler.addNotRetryableExceptions(type.asSubclass(Exception.class));
      }
    }
    handler.setRetryListeners(
        new RetryListener() {
          @Override
          public void failedDelivery(ConsumerRecord<?, ?> record, Exception ex, int attempt) {
            Throwable failure = unwrap(ex);
            if (DatabaseUnavailable.is(failure)
                || (policy.isRetryable(failure) && attempt < policy.maxAttempts())) {
              consumer.recordRetry(record.topic());
            }
          }
        });
    return handler;
  }

  private static Throwable unwrap(Throwable ex) {
    Throwable t = ex;
    while (t instanceof ListenerExecutionFailedException && t.getCause() != null) {
      t = t.getCause();
    }
    return DeadLetters.explain(t);
  }
}
