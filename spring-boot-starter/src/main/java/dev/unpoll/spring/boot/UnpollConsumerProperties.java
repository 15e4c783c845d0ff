package dev.unpoll.spring.boot;

import dev.unpoll.consumer.ConsumerException;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.MissingKeyPolicy;
import dev.unpoll.consumer.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * {@code unpoll.consumer.*}: the idempotent consumer, its store and retry policy, and its listener
 * container factory. The defaults are the library's own, written here as literals so that the
 * configuration processor publishes them to IDEs; {@code UnpollPropertiesTest} pins each to the
 * library's constant. Binding validates by building the store and the policy, so a bad value fails
 * the start with the library's message (setting, value, fix) under the property's name.
 */
@ConfigurationProperties(prefix = UnpollConsumerProperties.PREFIX)
public class UnpollConsumerProperties implements Validator {
  /** The prefix of these properties. */
  public static final String PREFIX = "unpoll.consumer";

  /**
   * Whether to auto-configure the idempotent consumer, its store and retry policy, and the
   * idempotent listener container factory.
   */
  private boolean enabled = true;

  /**
   * The consumer group whose handled keys the idempotency store records; defaults to
   * spring.kafka.consumer.group-id. Keep it stable: a new group handles every event again.
   */
  private String group;

  /** The record header that carries the idempotency key. */
  private String keyHeader = "ce_id";

  /**
   * What happens to a record without the key header: DEAD_LETTER sends it to the dead-letter topic
   * at once, SKIP logs and skips it.
   */
  private MissingKeyPolicy missingKeyPolicy = MissingKeyPolicy.DEAD_LETTER;

  /**
   * With OpenTelemetry present, run the handler in a new trace linked to the writer's trace instead
   * of as its child.
   */
  private boolean traceAsLink = false;

  private final Idempotency idempotency = new Idempotency();
  private final Retry retry = new Retry();

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getGroup() {
    return group;
  }

  public void setGroup(String group) {
    this.group = group;
  }

  public String getKeyHeader() {
    return keyHeader;
  }

  public void setKeyHeader(String keyHeader) {
    this.keyHeader = keyHeader;
  }

  public MissingKeyPolicy getMissingKeyPolicy() {
    return missingKeyPolicy;
  }

  public void setMissingKeyPolicy(MissingKeyPolicy missingKeyPolicy) {
    this.missingKeyPolicy = missingKeyPolicy;
  }

  public boolean isTraceAsLink() {
    return traceAsLink;
  }

  public void setTraceAsLink(boolean traceAsLink) {
    this.traceAsLink = traceAsLink;
  }

  /** The idempotency store. */
  public Idempotency getIdempotency() {
    return idempotency;
  }

  /** Retries, backoff and dead-lettering of failed records. */
  public Retry getRetry() {
    return retry;
  }

  @Override
  public boolean supports(Class<?> type) {
    return UnpollConsumerProperties.class.isAssignableFrom(type);
  }

  @Override
  public void validate(Object target, Errors errors) {
    UnpollConsumerProperties p = (UnpollConsumerProperties) target;
    if (!p.enabled) {
      return;
    }
    try {
      p.idempotency.toStore();
    } catch (ConsumerException e) {
      errors.rejectValue("idempotency", "unpoll.invalid", e.getMessage());
    }
    try {
      p.retry.toPolicy();
    } catch (ConsumerException e) {
      errors.rejectValue("retry", "unpoll.invalid", e.getMessage());
    }
    if (p.keyHeader == null || p.keyHeader.isBlank()) {
      errors.rejectValue(
          "keyHeader",
          "unpoll.blank",
          "must name the record header that carries the idempotency key (default ce_id)");
    }
  }

  /** {@code unpoll.consumer.idempotency.*}: the tables that record handled keys. */
  public static class Idempotency {
    /**
     * Schema of the unpoll_processed and unpoll_shadow_ledger tables; unset, the connection's
     * current schema.
     */
    private String schema;

    /** How long handled keys are kept by IdempotencyStore.purge. */
    private Duration retention = Duration.ofDays(7);

    /** Rows one purge transaction deletes. */
    private int purgeBatchSize = 5000;

    /**
     * Create both tables (and the schema) at start-up when absent. For development and tests;
     * production databases get the DDL from their migrations.
     */
    private boolean createTables = false;

    IdempotencyStore toStore() {
      return IdempotencyStore.builder()
          .schema(schema)
          .retention(retention)
          .purgeBatchSize(purgeBatchSize)
          .build();
    }

    public String getSchema() {
      return schema;
    }

    public void setSchema(String schema) {
      this.schema = schema;
    }

    public Duration getRetention() {
      return retention;
    }

    public void setRetention(Duration retention) {
      this.retention = retention;
    }

    public int getPurgeBatchSize() {
      return purgeBatchSize;
    }

    public void setPurgeBatchSize(int purgeBatchSize) {
      this.purgeBatchSize = purgeBatchSize;
    }

    public boolean isCreateTables() {
      return createTables;
    }

    public void setCreateTables(boolean createTables) {
      this.createTables = createTables;
    }
  }

  /** {@code unpoll.consumer.retry.*}: the RetryPolicy of the listener container factory. */
  public static class Retry {
    /** Deliveries in total, the first included; 1 disables retries. */
    private int maxAttempts = 5;

    /** Wait before the second attempt. */
    private Duration initialBackoff = Duration.ofMillis(200);

    /** Growth factor of the wait, at least 1. */
    private double multiplier = 2.0;

    /** Cap of one wait. */
    private Duration maxBackoff = Duration.ofSeconds(10);

    /** Each wait moves by a random amount within plus or minus this; 0 disables jitter. */
    private Duration jitter = Duration.ofMillis(50);

    /**
     * Exception types dead-lettered at once, without retry, in addition to NonRetryableException,
     * ClassCastException and Jackson's JsonProcessingException.
     */
    private List<Class<? extends Throwable>> nonRetryable = new ArrayList<>();

    RetryPolicy toPolicy() {
      RetryPolicy.Builder b =
          RetryPolicy.builder()
              .maxAttempts(maxAttempts)
              .initialBackoff(initialBackoff)
              .multiplier(multiplier)
              .maxBackoff(maxBackoff)
              .jitter(jitter);
      nonRetryable.forEach(b::nonRetryable);
      return b.build();
    }

    public int getMaxAttempts() {
      return maxAttempts;
    }

    public void setMaxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
    }

    public Duration getInitialBackoff() {
      return initialBackoff;
    }

    public void setInitialBackoff(Duration initialBackoff) {
      this.initialBackoff = initialBackoff;
    }

    public double getMultiplier() {
      return multiplier;
    }

    public void setMultiplier(double multiplier) {
      this.multiplier = multiplier;
    }

    public Duration getMaxBackoff() {
      return maxBackoff;
    }

    public void setMaxBackoff(Duration maxBackoff) {
      this.maxBackoff = maxBackoff;
    }

    public Duration getJitter() {
      return jitter;
    }

    public void setJitter(Duration jitter) {
      this.jitter = jitter;
    }

    public List<Class<? extends Throwable>> getNonRetryable() {
      return nonRetryable;
    }

    public void setNonRetryable(List<Class<? extends Throwable>> nonRetryable) {
      this.nonRetryable = nonRetryable;
    }
  }
}
