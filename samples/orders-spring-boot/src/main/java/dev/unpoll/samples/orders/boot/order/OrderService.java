package dev.unpoll.samples.orders.boot.order;

import java.math.BigDecimal;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The order service. During the legacy-table migration it does not change: it keeps writing one
 * integration row per downstream service in the order's transaction, and the relay captures those
 * rows from the WAL.
 */
@Service
public class OrderService {
  private final JdbcTemplate jdbc;

  public OrderService(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  // tag::place-order[]
  /** Places an order; returns its id. The order and both integration rows commit together. */
  @Transactional
  public long placeOrder(String customer, BigDecimal amount) {
    long orderId =
        jdbc.queryForObject(
            "INSERT INTO shop.orders (customer, amount) VALUES (?, ?) RETURNING id",
            Long.class,
            customer,
            amount);
    for (String table : new String[] {"shop.inventory_integration", "shop.payment_integration"}) {
      jdbc.update(
          "INSERT INTO "
              + table
              + " (order_id, event_type, payload) VALUES (?, 'OrderPlaced',"
              + " jsonb_build_object('orderId', ?::bigint, 'customer', ?::text,"
              + " 'amount', ?::numeric))",
          orderId,
          orderId,
          customer,
          amount);
    }
    return orderId;
  }

  // end::place-order[]

  /**
   * Writes an order and its integration rows, then fails (a declined card) after the writes: the
   * transaction rolls back, so no service may ever see the order.
   *
   * @throws IllegalStateException always; its message names the order id
   */
  @Transactional
  public long placeOrderThenFail(String customer, BigDecimal amount) {
    long orderId = placeOrder(customer, amount);
    throw new IllegalStateException("card declined for order " + orderId);
  }
}
