package dev.unpoll.samples.orders.boot.payment;

import dev.unpoll.samples.orders.boot.Downstream;
import dev.unpoll.samples.orders.boot.MigratingConsumer;
import dev.unpoll.spring.boot.UnpollKafkaAutoConfiguration;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * The payment poller's row logic on the relay's events of {@code shop.payment_integration} rows.
 */
@Component
public class PaymentListener {
  private final DataSource dataSource;

  public PaymentListener(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  // tag::listener[]
  @KafkaListener(
      topics = "${orders.topic}",
      containerFactory = UnpollKafkaAutoConfiguration.CONTAINER_FACTORY)
  void on(ConsumerRecord<String, String> record) throws SQLException {
    // reached only when the key is new and, in mode claim, the claim won (shadow: never)
    MigratingConsumer.handle(record, dataSource, Downstream.PAYMENT);
  }
  // end::listener[]
}
