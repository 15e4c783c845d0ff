package dev.unpoll.spring.boot.app;

import dev.unpoll.spring.boot.UnpollKafkaAutoConfiguration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/** Ships each placed order: one row in {@code shipments} per handled event. */
@Component
public class ShippingListener {
  private final JdbcTemplate jdbc;
  private final AddressBook addresses;

  ShippingListener(JdbcTemplate jdbc, AddressBook addresses) {
    this.jdbc = jdbc;
    this.addresses = addresses;
  }

  // tag::idempotent-listener[]
  @KafkaListener(
      topics = "${shop.orders-topic}",
      containerFactory = UnpollKafkaAutoConfiguration.CONTAINER_FACTORY)
  void onOrderPlaced(ConsumerRecord<String, String> record) {
    // runs in the transaction that records the event's ce_id: JdbcTemplate joins it, and a
    // redelivered event never gets here
    jdbc.update("INSERT INTO shipments (order_id) VALUES (?)", record.key());
    // a failure rolls back the insert and the key; the record is retried, then dead-lettered
    addresses.check(record.key());
  }
  // end::idempotent-listener[]
}
