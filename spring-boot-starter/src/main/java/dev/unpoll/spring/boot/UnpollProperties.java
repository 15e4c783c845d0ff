package dev.unpoll.spring.boot;

import dev.unpoll.consumer.ConsumerException;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.MissingKeyPolicy;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxColumn;
import dev.unpoll.outbox.OutboxException;
import dev.unpoll.outbox.OutboxStrategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.ClassUtils;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * Every setting of the starter, under {@code unpoll.*}. The defaults are the libraries' own, written
 * here as literals so that the configuration processor can publish them to IDEs; {@code
 * UnpollPropertiesTest} pins each to the library's constant. Binding validates each group by building the library object it
 * configures, so a bad value fails the start with the library's message (setting, value, fix) under
 * the property's name.
 */
@ConfigurationProperties(prefix = UnpollProperties.PREFIX)
public class UnpollProperties implements Validator {
  /** The prefix of every property. */
  public static final String PREFIX = "unpoll";

  private final OutboxProperties outbox = new OutboxProperties();
  private final ConsumerProperties consumer = new ConsumerProperties();

  /** The outbox writer. */
  public OutboxProperties getOutbox() {
    return outbox;
  }

  /** The idempotent consumer and its listener container factory. */
  public ConsumerProperties getConsumer() {
    return consumer;
  }

  @Override
  public boolean supports(Class<?> type) {
    return UnpollProperties.class.isAssignableFrom(type);
  }

  @Override
  public void validate(Object target, Errors errors) {
    UnpollProperties p = (UnpollProperties) target;
    // each side is checked only when its library is present: the other may be absent
    if (present("dev.unpoll.outbox.Outbox") && p.outbox.isEnabled()) {
      check(errors, "outbox", () -> p.outbox.toBuilder().build(), OutboxException.class);
    }
    if (present("dev.unpoll.consumer.IdempotentConsumer") && p.consumer.isEnabled()) {
      ConsumerProperties c = p.consumer;
      check(errors, "consumer.idempotency", () -> c.idempotency.toStore(), ConsumerException.class);
      check(errors, "consumer.retry", () -> c.retry.toPolicy(), ConsumerException.class);
      if (c.keyHeader == null || c.keyHeader.isBlank()) {
        errors.rejectValue(
            "consumer.keyHeader",
            "unpoll.blank",
            "must name the header that carries the idempotency key (default ce_id)");
      }
    }
  }

  private static boolean present(String className) {
    return ClassUtils.isPresent(className, UnpollProperties.class.getClassLoader());
  }

  private static void check(
      Errors errors, String path, Supplier<?> build, Class<? extends RuntimeException> invalid) {
    try {
      build.get();
    } catch (RuntimeException e) {
      if (!invalid.isInstance(e)) {
        throw e;
      }
      errors.rejectValue(path, "unpoll.invalid", e.getMessage());
    }
  }

  /** {@code unpoll.outbox.*}: the writer of {@code SpringOutbox}. */
  public static class OutboxProperties {
    /** Whether to auto-configure the outbox writer (Outbox and SpringOutbox beans). */
    private boolean enabled = true;

    /**
     * How events reach the WAL: TABLE inserts rows into the outbox table, WAL_MESSAGE writes
     * logical-decoding messages and no rows.
     */
    private OutboxStrategy strategy = OutboxStrategy.TABLE;

    /** Schema of the outbox table (TABLE). */
    private String schema = "public";

    /** Name of the outbox table (TABLE), without the schema. */
    private String table = "unpoll_outbox";

    /**
     * Column names that differ from the defaults (TABLE), keyed by column: id, aggregate-type,
     * aggregate-id, type, payload, headers, created-at. Tell the relay the same names.
     */
    private Map<OutboxColumn, String> columns = new EnumMap<>(OutboxColumn.class);

    /**
     * Delete each row in the same transaction right after inserting it (TABLE): the WAL still
     * carries the insert for the relay and the table never grows.
     */
    private boolean deleteAfterInsert = false;

    /** Prefix of the WAL messages (WAL_MESSAGE); the relay filters on it. */
    private String walPrefix = "unpoll.outbox";

    /**
     * Check at start-up that the database is ready for the writer (table, columns, types,
     * privileges; or wal_level=logical) and fail the start listing what is missing.
     */
    private boolean verifySchema = false;

    Outbox.Builder toBuilder() {
      return Outbox.builder()
          .strategy(strategy)
          .schema(schema)
          .table(table)
          .columns(columns)
          .deleteAfterInsert(deleteAfterInsert)
          .walPrefix(walPrefix);
    }

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public OutboxStrategy getStrategy() {
      return strategy;
    }

    public void setStrategy(OutboxStrategy strategy) {
      this.strategy = strategy;
    }

    public String getSchema() {
      return schema;
    }

    public void setSchema(String schema) {
      this.schema = schema;
    }

    public String getTable() {
      return table;
    }

    public void setTable(String table) {
      this.table = table;
    }

    public Map<OutboxColumn, String> getColumns() {
      return columns;
    }

    public void setColumns(Map<OutboxColumn, String> columns) {
      this.columns = columns;
    }

    public boolean isDeleteAfterInsert() {
      return deleteAfterInsert;
    }

    public void setDeleteAfterInsert(boolean deleteAfterInsert) {
      this.deleteAfterInsert = deleteAfterInsert;
    }

    public String getWalPrefix() {
      return walPrefix;
    }

    public void setWalPrefix(String walPrefix) {
      this.walPrefix = walPrefix;
    }

    public boolean isVerifySchema() {
      return verifySchema;
    }

    public void setVerifySchema(boolean verifySchema) {
      this.verifySchema = verifySchema;
    }
  }

  /** {@code unpoll.consumer.*}: the idempotent consumer and its listener container factory. */
  public static class ConsumerProperties {
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
     * What happens to a record without the key header: DEAD_LETTER sends it to the dead-letter
     * topic at once, SKIP logs and skips it.
     */
    private MissingKeyPolicy missingKeyPolicy = MissingKeyPolicy.DEAD_LETTER;

    /**
     * With OpenTelemetry present, run the handler in a new trace linked to the writer's trace
     * instead of as its child.
     */
    private boolean traceAsLink = false;

    private final IdempotencyProperties idempotency = new IdempotencyProperties();
    private final RetryProperties retry = new RetryProperties();

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
    public IdempotencyProperties getIdempotency() {
      return idempotency;
    }

    /** Retries, backoff and dead-lettering of failed records. */
    public RetryProperties getRetry() {
      return retry;
    }
  }

  /** {@code unpoll.consumer.idempotency.*}: the tables that record handled keys. */
  public static class IdempotencyProperties {
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
  public static class RetryProperties {
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
