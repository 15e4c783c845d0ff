package dev.unpoll.samples.orders.boot.inventory;

import dev.unpoll.samples.orders.boot.Downstream;
import dev.unpoll.samples.orders.boot.MigratingConsumer;
import dev.unpoll.spring.boot.UnpollKafkaAutoConfiguration;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * The inventory poller's row logic on the relay's events of {@code shop.inventory_integration}
 * rows.
 */
@Component
public class InventoryListener {
  private final DataSource dataSource;

  public InventoryListener(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  // tag::listener[]
  @KafkaListener(
      topics = "${orders.topic}",
      containerFactory = UnpollKafkaAutoConfiguration.CONTAINER_FACTORY)
  void on(ConsumerRecord<String, String> record) throws SQLException {
    // reached only when the key is new and, in mode claim, the claim won (shadow: never)
    MigratingConsumer.handle(record, dataSource, Downstream.INVENTORY);
  }
  // end::listener[]
}
