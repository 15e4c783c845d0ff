package dev.unpoll.spring.boot;

import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.outbox.Outbox;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Health contributors, with Spring Boot's health module present: {@code unpollOutbox} ({@link
 * OutboxHealthIndicator}) and {@code unpollIdempotencyStore} ({@link
 * IdempotencyStoreHealthIndicator}). Each can be turned off with {@code
 * management.health.unpoll-outbox.enabled=false} or {@code
 * management.health.unpoll-idempotency-store.enabled=false}.
 */
@AutoConfiguration(
    after = {UnpollOutboxAutoConfiguration.class, UnpollConsumerAutoConfiguration.class})
@ConditionalOnClass(HealthIndicator.class)
public class UnpollHealthAutoConfiguration {

  /** The outbox's contributor. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(Outbox.class)
  @ConditionalOnSingleCandidate(Outbox.class)
  @ConditionalOnEnabledHealthIndicator("unpoll-outbox")
  static class OutboxHealth {
    @Bean
    @ConditionalOnMissingBean(name = "unpollOutboxHealthIndicator")
    @ConditionalOnSingleCandidate(DataSource.class)
    OutboxHealthIndicator unpollOutboxHealthIndicator(Outbox outbox, DataSource dataSource) {
      return new OutboxHealthIndicator(outbox, dataSource);
    }
  }

  /** The idempotency store's contributor. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(IdempotentConsumer.class)
  @ConditionalOnSingleCandidate(IdempotentConsumer.class)
  @ConditionalOnEnabledHealthIndicator("unpoll-idempotency-store")
  static class IdempotencyStoreHealth {
    @Bean
    @ConditionalOnMissingBean(name = "unpollIdempotencyStoreHealthIndicator")
    IdempotencyStoreHealthIndicator unpollIdempotencyStoreHealthIndicator(
        IdempotentConsumer consumer) {
      return new IdempotencyStoreHealthIndicator(consumer);
    }
  }
}
