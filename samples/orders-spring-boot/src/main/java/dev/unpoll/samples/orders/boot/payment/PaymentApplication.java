package dev.unpoll.samples.orders.boot.payment;

import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.samples.orders.boot.Downstream;
import dev.unpoll.samples.orders.boot.MigratingConsumer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * The payment service on Kafka (settings: {@code payment.properties}): {@link PaymentListener} on
 * the starter's idempotent listener container factory, in the migration phase {@code orders.mode}
 * names ({@code shadow}, {@code claim}, {@code plain}).
 */
@SpringBootApplication
public class PaymentApplication {
  @Bean
  MeterRegistry meterRegistry() {
    return new SimpleMeterRegistry();
  }

  @Bean
  IdempotentConsumer paymentConsumer(
      DataSource dataSource,
      IdempotencyStore store,
      MeterRegistry meters,
      @Value("${orders.mode}") String mode) {
    return MigratingConsumer.forMode(
        dataSource, store, Downstream.PAYMENT, MigratingConsumer.Mode.of(mode), meters);
  }

  /** Starts the service; {@code args} are Spring Boot's ({@code --orders.mode=claim}). */
  public static ConfigurableApplicationContext start(String... args) {
    return new SpringApplicationBuilder(PaymentApplication.class)
        .properties("spring.config.name=payment")
        .run(args);
  }

  public static void main(String[] args) {
    start(args);
  }
}
