package dev.unpoll.spring.boot.app;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A small shop for {@code StarterIT}: {@link OrderService} writes orders and their events through
 * the starter's outbox, {@link ShippingListener} ships each order once through the starter's
 * idempotent listener container factory.
 */
@SpringBootApplication
public class ShopApplication {
  /** The application's registry: the consumer's meters go here. */
  @Bean
  MeterRegistry meterRegistry() {
    return new SimpleMeterRegistry();
  }
}
