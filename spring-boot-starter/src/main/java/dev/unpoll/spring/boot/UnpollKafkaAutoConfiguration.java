package dev.unpoll.spring.boot;

import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.consumer.spring.SpringIdempotentConsumer;
import dev.unpoll.consumer.spring.SpringKafkaDefaults;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.kafka.autoconfigure.ConcurrentKafkaListenerContainerFactoryConfigurer;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;

/**
 * The idempotent listener container factory, bean {@value #CONTAINER_FACTORY}: Spring Boot's {@code
 * spring.kafka.listener.*} settings, plus {@link IdempotentListenerAdvice} around every record (the
 * key and the listener's database work commit in one transaction; a duplicate never reaches the
 * listener) and {@link SpringKafkaDefaults#errorHandler} (retries and backoff from the {@link
 * RetryPolicy}, then {@code <topic>.DLT} through Boot's {@code KafkaTemplate}). On when
 * spring-kafka and Spring Boot's Kafka module are present and the context has a consumer factory,
 * one template and one {@link SpringIdempotentConsumer}; backs off when the application defines a
 * bean of that name.
 */
@AutoConfiguration(
    after = UnpollConsumerAutoConfiguration.class,
    afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@ConditionalOnClass({
  ConcurrentKafkaListenerContainerFactory.class,
  ConcurrentKafkaListenerContainerFactoryConfigurer.class,
  SpringKafkaDefaults.class
})
@ConditionalOnBean(ConsumerFactory.class)
@ConditionalOnSingleCandidate(SpringIdempotentConsumer.class)
public class UnpollKafkaAutoConfiguration {
  /** The bean name to give {@code @KafkaListener(containerFactory = ...)}. */
  public static final String CONTAINER_FACTORY = "unpollKafkaListenerContainerFactory";

  private static final String ENABLE_AUTO_COMMIT = ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG;

  /** The factory; see the class comment. */
  @Bean(name = CONTAINER_FACTORY)
  @ConditionalOnMissingBean(name = CONTAINER_FACTORY)
  @ConditionalOnSingleCandidate(KafkaTemplate.class)
  public ConcurrentKafkaListenerContainerFactory<Object, Object>
      unpollKafkaListenerContainerFactory(
          ObjectProvider<ConcurrentKafkaListenerContainerFactoryConfigurer> configurer,
          ConsumerFactory<Object, Object> consumerFactory,
          KafkaTemplate<Object, Object> template,
          SpringIdempotentConsumer idempotent,
          ObjectProvider<RetryPolicy> retryPolicy) {
    ConcurrentKafkaListenerContainerFactory<Object, Object> factory =
        new ConcurrentKafkaListenerContainerFactory<>();
    ConcurrentKafkaListenerContainerFactoryConfigurer c = configurer.getIfAvailable();
    if (c != null) {
      c.configure(factory, consumerFactory);
    } else {
      factory.setConsumerFactory(consumerFactory);
    }
    if (Boolean.TRUE.equals(factory.isBatchListener())) {
      throw new UnpollStarterException(
          CONTAINER_FACTORY
              + " handles one record per transaction, but spring.kafka.listener.type=batch makes"
              + " its listeners batch listeners: remove that setting, or define your own batch"
              + " factory and process each record with SpringIdempotentConsumer.process");
    }
    if (autoCommit(consumerFactory, factory)) {
      throw new UnpollStarterException(
          CONTAINER_FACTORY
              + " commits each offset after the listener's transaction committed, but"
              + " enable.auto.commit=true (spring.kafka.consumer.enable-auto-commit) lets the Kafka"
              + " client commit offsets on its own, before that, so a crash can skip events that"
              + " were never handled: remove that setting");
    }
    factory.getContainerProperties().setAdviceChain(new IdempotentListenerAdvice(idempotent));
    factory.setCommonErrorHandler(
        SpringKafkaDefaults.errorHandler(
            template, idempotent.consumer(), retryPolicy.getIfAvailable(RetryPolicy::defaults)));
    return factory;
  }

  private static boolean autoCommit(
      ConsumerFactory<Object, Object> consumerFactory,
      ConcurrentKafkaListenerContainerFactory<Object, Object> factory) {
    Object value = consumerFactory.getConfigurationProperties().get(ENABLE_AUTO_COMMIT);
    String overridden =
        factory
            .getContainerProperties()
            .getKafkaConsumerProperties()
            .getProperty(ENABLE_AUTO_COMMIT);
    if (overridden != null) {
      value = overridden;
    }
    return value != null && Boolean.parseBoolean(value.toString());
  }
}
