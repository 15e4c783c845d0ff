package dev.unpoll.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.MissingKeyPolicy;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.consumer.spring.SpringIdempotentConsumer;
import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxColumn;
import dev.unpoll.outbox.OutboxStrategy;
import dev.unpoll.outbox.spring.SpringOutbox;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.DefaultErrorHandler;

/**
 * The starter's conditions, without servers: a pool that is never asked for a connection, a Kafka
 * client configuration that never connects.
 */
class UnpollAutoConfigurationTest {
  private static final String FACTORY = UnpollKafkaAutoConfiguration.CONTAINER_FACTORY;

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  DataSourceAutoConfiguration.class,
                  DataSourceTransactionManagerAutoConfiguration.class,
                  KafkaAutoConfiguration.class,
                  UnpollOutboxAutoConfiguration.class,
                  UnpollConsumerAutoConfiguration.class,
                  UnpollKafkaAutoConfiguration.class,
                  UnpollHealthAutoConfiguration.class))
          .withPropertyValues(
              "spring.datasource.url=jdbc:postgresql://127.0.0.1:1/never_connected",
              "spring.kafka.consumer.group-id=shipping");

  @Test
  void configuresBothSidesWithADataSourceAndKafka() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context)
              .hasSingleBean(Outbox.class)
              .hasSingleBean(SpringOutbox.class)
              .hasSingleBean(IdempotencyStore.class)
              .hasSingleBean(RetryPolicy.class)
              .hasSingleBean(IdempotentConsumer.class)
              .hasSingleBean(SpringIdempotentConsumer.class)
              .hasSingleBean(OutboxHealthIndicator.class)
              .hasSingleBean(IdempotencyStoreHealthIndicator.class)
              .hasBean(FACTORY)
              .hasBean("kafkaListenerContainerFactory"); // Boot's own stays as it is
          assertThat(context.getBean(SpringOutbox.class).outbox())
              .isSameAs(context.getBean(Outbox.class));
          assertThat(context.getBean(IdempotentConsumer.class).dataSource())
              .isSameAs(context.getBean(DataSource.class));
          assertThat(context.getBean(IdempotentConsumer.class).consumerGroup())
              .isEqualTo("shipping");
          ConcurrentKafkaListenerContainerFactory<?, ?> factory =
              context.getBean(FACTORY, ConcurrentKafkaListenerContainerFactory.class);
          assertThat(factory.getContainerProperties().getAdviceChain())
              .hasExactlyElementsOfTypes(IdempotentListenerAdvice.class);
          assertThat(factory.createContainer("orders").getCommonErrorHandler())
              .isInstanceOf(DefaultErrorHandler.class);
        });
  }

  @Test
  void bindsEveryGroupOfProperties() {
    runner
        .withPropertyValues(
            "unpoll.outbox.schema=events",
            "unpoll.outbox.table=order_outbox",
            "unpoll.outbox.delete-after-insert=true",
            "unpoll.outbox.defer-to-commit=true",
            "unpoll.outbox.columns.aggregate-id=order_no",
            "unpoll.consumer.group=shipping-v2",
            "unpoll.consumer.missing-key-policy=skip",
            "unpoll.consumer.idempotency.schema=shipping",
            "unpoll.consumer.idempotency.retention=3d",
            "unpoll.consumer.retry.max-attempts=3",
            "unpoll.consumer.retry.initial-backoff=1s",
            "unpoll.consumer.retry.multiplier=3",
            "unpoll.consumer.retry.max-backoff=20s",
            "unpoll.consumer.retry.jitter=0",
            "unpoll.consumer.retry.non-retryable=java.lang.IllegalArgumentException")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              Outbox outbox = context.getBean(Outbox.class);
              assertThat(outbox.strategy()).isEqualTo(OutboxStrategy.TABLE);
              assertThat(outbox.schema()).isEqualTo("events");
              assertThat(outbox.table()).isEqualTo("order_outbox");
              assertThat(outbox.deleteAfterInsert()).isTrue();
              assertThat(outbox.column(OutboxColumn.AGGREGATE_ID)).isEqualTo("order_no");
              assertThat(outbox.column(OutboxColumn.TYPE)).isEqualTo("type");
              assertThat(context.getBean(SpringOutbox.class).deferToCommit()).isTrue();
              IdempotentConsumer consumer = context.getBean(IdempotentConsumer.class);
              assertThat(consumer.consumerGroup()).isEqualTo("shipping-v2");
              assertThat(consumer.store().schema()).isEqualTo("shipping");
              assertThat(consumer.store().retention()).isEqualTo(Duration.ofDays(3));
              RetryPolicy retry = context.getBean(RetryPolicy.class);
              assertThat(retry.maxAttempts()).isEqualTo(3);
              assertThat(retry.initialBackoff()).isEqualTo(Duration.ofSeconds(1));
              assertThat(retry.multiplier()).isEqualTo(3.0);
              assertThat(retry.maxBackoff()).isEqualTo(Duration.ofSeconds(20));
              assertThat(retry.jitter()).isZero();
              assertThat(retry.isRetryable(new IllegalArgumentException())).isFalse();
              assertThat(retry.isRetryable(new IllegalStateException())).isTrue();
            });
  }

  @Test
  void walMessageStrategyIsBound() {
    runner
        .withPropertyValues("unpoll.outbox.strategy=wal-message", "unpoll.outbox.wal-prefix=orders")
        .run(
            context -> {
              Outbox outbox = context.getBean(Outbox.class);
              assertThat(outbox.strategy()).isEqualTo(OutboxStrategy.WAL_MESSAGE);
              assertThat(outbox.walPrefix()).isEqualTo("orders");
            });
  }

  @Test
  void everyBeanBacksOffWhenTheApplicationDefinesItsOwn() {
    runner
        .withUserConfiguration(OwnBeans.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(Outbox.class)).isSameAs(OwnBeans.OUTBOX);
              assertThat(context.getBean(SpringOutbox.class).outbox()).isSameAs(OwnBeans.OUTBOX);
              assertThat(context.getBean(IdempotencyStore.class)).isSameAs(OwnBeans.STORE);
              assertThat(context.getBean(RetryPolicy.class)).isSameAs(OwnBeans.RETRY);
              assertThat(context.getBean(IdempotentConsumer.class).consumerGroup())
                  .isEqualTo("own-group");
              assertThat(context.getBean(IdempotentConsumer.class).store())
                  .isSameAs(OwnBeans.STORE);
              assertThat(context.getBean(FACTORY)).isSameAs(OwnBeans.FACTORY);
              assertThat(context.getBean("unpollOutboxHealthIndicator")).isInstanceOf(String.class);
            });
  }

  @Test
  void twoApplicationConsumersLeaveTheRestOfTheConsumerSideToTheApplication() {
    runner
        .withUserConfiguration(TwoConsumers.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .hasSingleBean(SpringOutbox.class)
                  .doesNotHaveBean(SpringIdempotentConsumer.class)
                  .doesNotHaveBean(FACTORY)
                  .doesNotHaveBean(IdempotencyStoreHealthIndicator.class);
              assertThat(context.getBeansOfType(IdempotentConsumer.class)).hasSize(2);
            });
  }

  @Test
  void twoTransactionManagersWithoutAPrimaryFailTheStartSayingWhatToDo() {
    runner
        .withUserConfiguration(OtherTransactionManager.class, SecondTransactionManager.class)
        .withPropertyValues("unpoll.outbox.enabled=false")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains(
                      "the context has several transaction managers and none is @Primary, so the"
                          + " starter cannot tell which one records the idempotency keys");
            });
  }

  @Test
  void withoutADataSourceNeitherSideIsConfigured() {
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                KafkaAutoConfiguration.class,
                UnpollOutboxAutoConfiguration.class,
                UnpollConsumerAutoConfiguration.class,
                UnpollKafkaAutoConfiguration.class,
                UnpollHealthAutoConfiguration.class))
        .withPropertyValues("spring.kafka.consumer.group-id=shipping")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .doesNotHaveBean(Outbox.class)
                  .doesNotHaveBean(SpringOutbox.class)
                  .doesNotHaveBean(IdempotentConsumer.class)
                  .doesNotHaveBean(SpringIdempotentConsumer.class)
                  .doesNotHaveBean(FACTORY)
                  .doesNotHaveBean(OutboxHealthIndicator.class)
                  .doesNotHaveBean(IdempotencyStoreHealthIndicator.class);
            });
  }

  @Test
  void withoutKafkaTheListenerFactoryIsOffAndTheRestWorks() {
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                DataSourceAutoConfiguration.class,
                DataSourceTransactionManagerAutoConfiguration.class,
                UnpollOutboxAutoConfiguration.class,
                UnpollConsumerAutoConfiguration.class,
                UnpollKafkaAutoConfiguration.class))
        .withPropertyValues(
            "spring.datasource.url=jdbc:postgresql://127.0.0.1:1/never_connected",
            "unpoll.consumer.group=shipping")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .hasSingleBean(SpringOutbox.class)
                  .hasSingleBean(SpringIdempotentConsumer.class)
                  .doesNotHaveBean(FACTORY);
            });
  }

  @Test
  void withoutSpringKafkaOnTheClasspathTheListenerFactoryIsOff() {
    runner
        .withClassLoader(new FilteredClassLoader(KafkaTemplate.class))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .hasSingleBean(SpringOutbox.class)
                  .hasSingleBean(SpringIdempotentConsumer.class)
                  .doesNotHaveBean(FACTORY);
            });
  }

  @Test
  void withOnlyTheOutboxOnTheClasspathOnlyTheOutboxIsConfigured() {
    runner
        .withClassLoader(new FilteredClassLoader("dev.unpoll.consumer."))
        .withPropertyValues("unpoll.consumer.retry.max-attempts=0") // not bound: absent side
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .hasSingleBean(SpringOutbox.class)
                  .hasSingleBean(OutboxHealthIndicator.class)
                  .doesNotHaveBean(IdempotencyStoreHealthIndicator.class)
                  .doesNotHaveBean(FACTORY);
            });
  }

  @Test
  void withOnlyTheConsumerOnTheClasspathOnlyTheConsumerIsConfigured() {
    runner
        .withClassLoader(new FilteredClassLoader("dev.unpoll.outbox."))
        .withPropertyValues("unpoll.outbox.table=not a table") // not bound: absent side
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .hasSingleBean(SpringIdempotentConsumer.class)
                  .hasSingleBean(IdempotencyStoreHealthIndicator.class)
                  .doesNotHaveBean(OutboxHealthIndicator.class)
                  .hasBean(FACTORY);
            });
  }

  @Test
  void aTurnedOffSideIsNotValidated() {
    runner
        .withPropertyValues(
            "unpoll.outbox.enabled=false",
            "unpoll.outbox.table=orders.outbox",
            "unpoll.consumer.enabled=false",
            "unpoll.consumer.retry.max-attempts=0")
        .run(context -> assertThat(context).hasNotFailed());
  }

  @Test
  void eachSideCanBeTurnedOff() {
    runner
        .withPropertyValues("unpoll.outbox.enabled=false", "unpoll.consumer.enabled=false")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .doesNotHaveBean(Outbox.class)
                  .doesNotHaveBean(IdempotentConsumer.class)
                  .doesNotHaveBean(FACTORY);
            });
  }

  @Test
  void healthContributorsCanBeTurnedOff() {
    runner
        .withPropertyValues(
            "management.health.unpoll-outbox.enabled=false",
            "management.health.unpoll-idempotency-store.enabled=false")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .hasSingleBean(Outbox.class)
                  .doesNotHaveBean(OutboxHealthIndicator.class)
                  .doesNotHaveBean(IdempotencyStoreHealthIndicator.class);
            });
  }

  @Test
  void badRetrySettingsFailTheStartNamingThePropertyAndTheFix() {
    runner
        .withPropertyValues(
            "unpoll.consumer.retry.max-attempts=0", "unpoll.consumer.retry.multiplier=0.5")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("unpoll.consumer.retry")
                  .contains("maxAttempts: 0 must be at least 1 (1 = no retries)")
                  .contains("multiplier: 0.5 must be a finite number >= 1, e.g. 2.0");
            });
  }

  @Test
  void aBadOutboxTableFailsTheStartNamingThePropertyAndTheFix() {
    runner
        .withPropertyValues("unpoll.outbox.table=orders.outbox")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("unpoll.outbox: invalid outbox configuration: table:")
                  .contains("contains a dot; set the schema with schema(..)");
            });
  }

  @Test
  void aBlankKeyHeaderFailsTheStart() {
    runner
        .withPropertyValues("unpoll.consumer.key-header= ")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("keyHeader")
                  .contains("must name the record header that carries the idempotency key");
            });
  }

  @Test
  void anUnknownEnumValueFailsTheStart() {
    runner
        .withPropertyValues("unpoll.consumer.missing-key-policy=drop")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("unpoll.consumer.missing-key-policy")
                  .contains(MissingKeyPolicy.class.getName());
            });
  }

  @Test
  void aMissingConsumerGroupFailsTheStartSayingWhatToSet() {
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                DataSourceAutoConfiguration.class,
                DataSourceTransactionManagerAutoConfiguration.class,
                UnpollConsumerAutoConfiguration.class))
        .withPropertyValues("spring.datasource.url=jdbc:postgresql://127.0.0.1:1/never_connected")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains(
                      "unpoll.consumer.group is not set, and neither is"
                          + " spring.kafka.consumer.group-id: set unpoll.consumer.group");
            });
  }

  @Test
  void aBatchListenerTypeFailsTheStartSayingWhy() {
    runner
        .withPropertyValues("spring.kafka.listener.type=batch")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains(FACTORY + " handles one record per transaction");
            });
  }

  @Test
  void verifySchemaWithAnUnreachableDatabaseFailsTheStartSayingWhatToFix() {
    runner
        .withPropertyValues("unpoll.outbox.verify-schema=true")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains(
                      "unpoll.outbox.verify-schema=true, but the database could not be reached to"
                          + " check the outbox schema: ")
                  .contains("; fix the connection settings (spring.datasource.*)");
            });
  }

  @Test
  void kafkaAutoCommitFailsTheStartSayingWhy() {
    runner
        .withPropertyValues("spring.kafka.consumer.enable-auto-commit=true")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("enable.auto.commit=true (spring.kafka.consumer.enable-auto-commit)")
                  .contains("a crash can skip events that were never handled");
            });
  }

  @Test
  void anOutboxWhoseTransactionManagerHasAnotherDataSourceFailsTheStart() {
    runner
        .withUserConfiguration(OtherTransactionManager.class)
        .withPropertyValues("unpoll.consumer.enabled=false")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("manages another DataSource than the one SpringOutbox writes to");
            });
  }

  @Test
  void aConsumerWhoseTransactionManagerHasAnotherDataSourceFailsTheStart() {
    runner
        .withUserConfiguration(OtherTransactionManager.class)
        .withPropertyValues("unpoll.outbox.enabled=false")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("give both the same DataSource so the key and the effect commit");
            });
  }

  private static String messages(Throwable failure) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      all.append(t.getMessage()).append('\n');
    }
    return all.toString();
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnBeans {
    static final Outbox OUTBOX = Outbox.builder().table("own_outbox").build();
    static final IdempotencyStore STORE = IdempotencyStore.builder().schema("own").build();
    static final RetryPolicy RETRY = RetryPolicy.builder().maxAttempts(2).build();
    static final ConcurrentKafkaListenerContainerFactory<Object, Object> FACTORY =
        new ConcurrentKafkaListenerContainerFactory<>();

    @Bean
    Outbox outbox() {
      return OUTBOX;
    }

    @Bean
    IdempotencyStore store() {
      return STORE;
    }

    @Bean
    RetryPolicy retry() {
      return RETRY;
    }

    @Bean
    IdempotentConsumer consumer(DataSource dataSource) {
      return IdempotentConsumer.builder()
          .dataSource(dataSource)
          .consumerGroup("own-group")
          .store(STORE)
          .build();
    }

    @Bean(UnpollKafkaAutoConfiguration.CONTAINER_FACTORY)
    ConcurrentKafkaListenerContainerFactory<Object, Object> factory() {
      return FACTORY;
    }

    @Bean
    String unpollOutboxHealthIndicator() {
      return "the application's own";
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class TwoConsumers {
    @Bean
    IdempotentConsumer orders(DataSource dataSource) {
      return IdempotentConsumer.builder().dataSource(dataSource).consumerGroup("orders").build();
    }

    @Bean
    IdempotentConsumer payments(DataSource dataSource) {
      return IdempotentConsumer.builder().dataSource(dataSource).consumerGroup("payments").build();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class SecondTransactionManager {
    @Bean
    DataSourceTransactionManager secondTransactionManager() {
      return new DataSourceTransactionManager(
          new DriverManagerDataSource("jdbc:postgresql://127.0.0.1:1/second"));
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OtherTransactionManager {
    @Bean
    DataSourceTransactionManager transactionManager() {
      return new DataSourceTransactionManager(
          new DriverManagerDataSource("jdbc:postgresql://127.0.0.1:1/another"));
    }
  }
}
