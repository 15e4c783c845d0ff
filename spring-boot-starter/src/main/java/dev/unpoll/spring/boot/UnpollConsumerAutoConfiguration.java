package dev.unpoll.spring.boot;

import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KeyExtractor;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.consumer.spring.SpringIdempotentConsumer;
import io.micrometer.core.instrument.MeterRegistry;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The consumer side: the {@link IdempotencyStore}, the {@link RetryPolicy}, the {@link
 * IdempotentConsumer} (its meters in the application's {@link MeterRegistry} when there is one) and
 * the {@link SpringIdempotentConsumer} on the application's transaction manager. On when
 * unpoll-consumer-adapters and spring-jdbc are on the classpath and the context has one {@code
 * DataSource}; Kafka is not needed here (see {@link UnpollKafkaAutoConfiguration}). Each bean backs
 * off when the application defines its own.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"
    })
@ConditionalOnClass({
  IdempotentConsumer.class,
  SpringIdempotentConsumer.class,
  DataSourceUtils.class
})
@ConditionalOnProperty(
    prefix = "unpoll.consumer",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@ConditionalOnSingleCandidate(DataSource.class)
@EnableConfigurationProperties(UnpollConsumerProperties.class)
public class UnpollConsumerAutoConfiguration {
  /** The property Spring Boot's Kafka support reads the listeners' group id from. */
  static final String KAFKA_GROUP_ID = "spring.kafka.consumer.group-id";

  /**
   * The store from {@code unpoll.consumer.idempotency.*}; creates its tables when {@code
   * create-tables=true}.
   */
  @Bean
  @ConditionalOnMissingBean
  public IdempotencyStore unpollIdempotencyStore(
      UnpollConsumerProperties properties, DataSource dataSource) {
    IdempotencyStore store = properties.getIdempotency().toStore();
    if (properties.getIdempotency().isCreateTables()) {
      store.createTablesIfAbsent(dataSource);
    }
    return store;
  }

  /** Retries, backoff and non-retryable types from {@code unpoll.consumer.retry.*}. */
  @Bean
  @ConditionalOnMissingBean
  public RetryPolicy unpollRetryPolicy(UnpollConsumerProperties properties) {
    return properties.getRetry().toPolicy();
  }

  /**
   * The consumer of group {@code unpoll.consumer.group} (default {@value #KAFKA_GROUP_ID}). With no
   * handler of its own: the listener is the handler.
   */
  @Bean
  @ConditionalOnMissingBean
  public IdempotentConsumer unpollIdempotentConsumer(
      UnpollConsumerProperties properties,
      Environment environment,
      DataSource dataSource,
      IdempotencyStore store,
      ObjectProvider<MeterRegistry> meterRegistry) {
    String group = properties.getGroup();
    if (group == null || group.isBlank()) {
      group = environment.getProperty(KAFKA_GROUP_ID);
    }
    if (group == null || group.isBlank()) {
      throw new UnpollStarterException(
          "unpoll.consumer.group is not set, and neither is "
              + KAFKA_GROUP_ID
              + ": set unpoll.consumer.group to the consumer group whose handled events the"
              + " idempotency store records (usually the group id of your @KafkaListener), or set"
              + " unpoll.consumer.enabled=false if this application consumes nothing");
    }
    return IdempotentConsumer.builder()
        .dataSource(dataSource)
        .consumerGroup(group)
        .store(store)
        .keyExtractor(KeyExtractor.header(properties.getKeyHeader()))
        .missingKeyPolicy(properties.getMissingKeyPolicy())
        .traceAsLink(properties.isTraceAsLink())
        .meterRegistry(meterRegistry.getIfUnique())
        .build();
  }

  /**
   * Records the key and runs the listener in one transaction of the application's transaction
   * manager (a {@code DataSourceTransactionManager} on the same {@code DataSource}).
   */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnSingleCandidate(IdempotentConsumer.class)
  @ConditionalOnBean(PlatformTransactionManager.class)
  public SpringIdempotentConsumer springIdempotentConsumer(
      IdempotentConsumer consumer, ObjectProvider<PlatformTransactionManager> transactionManagers) {
    PlatformTransactionManager transactionManager = transactionManagers.getIfUnique();
    if (transactionManager == null) {
      throw new UnpollStarterException(
          "the context has several transaction managers and none is @Primary, so the starter"
              + " cannot tell which one records the idempotency keys: mark the one on the"
              + " consumer's DataSource @Primary, or define your own SpringIdempotentConsumer"
              + " bean with it");
    }
    return new SpringIdempotentConsumer(consumer, transactionManager);
  }
}
