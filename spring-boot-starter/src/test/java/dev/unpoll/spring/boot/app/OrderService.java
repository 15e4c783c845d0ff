package dev.unpoll.spring.boot.app;

import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.spring.SpringOutbox;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Writes an order and its event in one transaction. */
@Service
public class OrderService {
  private final JdbcTemplate jdbc;
  private final SpringOutbox outbox;

  OrderService(JdbcTemplate jdbc, SpringOutbox outbox) {
    this.jdbc = jdbc;
    this.outbox = outbox;
  }

  // tag::transactional-write[]
  @Transactional
  public void placeOrder(String orderId, String item) {
    jdbc.update("INSERT INTO shop_orders (id, item) VALUES (?, ?)", orderId, item);
    // same transaction: the event commits with the order, or neither does
    outbox.publish(OutboxEvent.of("order", orderId, "OrderPlaced", Map.of("item", item)));
  }

  // end::transactional-write[]

  /** Writes the order and its event, then fails: both roll back. */
  @Transactional
  public void placeOrderThenFail(String orderId, String item) {
    placeOrder(orderId, item);
    throw new IllegalStateException("payment declined for order " + orderId);
  }
}
