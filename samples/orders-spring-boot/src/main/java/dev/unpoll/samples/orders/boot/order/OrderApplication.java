package dev.unpoll.samples.orders.boot.order;

import java.time.Duration;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * The order service as a Spring Boot application (settings: {@code order.properties}). In the
 * legacy-table migration it keeps writing the integration rows; nothing in it changes.
 */
@SpringBootApplication
public class OrderApplication {
  /** Places orders every {@code orders.traffic.every} (a duration, e.g. {@code 200ms}). */
  @Bean
  @ConditionalOnProperty("orders.traffic.every")
  OrderTraffic orderTraffic(OrderService orders, Environment env) {
    return new OrderTraffic(
        orders, env.getRequiredProperty("orders.traffic.every", Duration.class));
  }

  /** Starts the service; {@code args} are Spring Boot's ({@code --name=value}). */
  public static ConfigurableApplicationContext start(String... args) {
    return new SpringApplicationBuilder(OrderApplication.class)
        .properties("spring.config.name=order")
        .run(args);
  }

  public static void main(String[] args) {
    start(args);
  }
}
