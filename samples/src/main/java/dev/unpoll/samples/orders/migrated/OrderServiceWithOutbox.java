package dev.unpoll.samples.orders.migrated;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.samples.orders.OrderService;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * Service A after the migration's last step: instead of an integration row that B polls ({@link
 * OrderService}), it writes an {@code OrderPlaced} event through the transactional outbox, in the
 * same transaction as the order. The relay publishes it to {@code outbox.order}.
 */
public final class OrderServiceWithOutbox {
  /** The event's payload: the same fields the legacy integration row carried. */
  public record OrderPlaced(long orderId, String customer, BigDecimal amount) {}

  // tag::outbox[]
  /** TABLE strategy, {@code public.unpoll_outbox}; each row is deleted right after its insert. */
  static final Outbox OUTBOX = Outbox.builder().deleteAfterInsert(true).build();

  // end::outbox[]

  private final DataSource dataSource;

  public OrderServiceWithOutbox(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Creates the outbox table in a fresh database (a service ships {@link Outbox#DDL_RESOURCE} as a
   * migration instead), then checks it as the service does at start-up.
   */
  public static void createOutboxTable(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(OUTBOX.ddl());
      OUTBOX.verifySchema(c); // throws, naming every missing or mismatched column
    }
  }

  // tag::place-order[]
  /** Returns the id of the order; its {@code OrderPlaced} event commits with it, or neither. */
  public long placeOrder(String customer, BigDecimal amount) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false); // the outbox refuses auto-commit connections
      try {
        long orderId;
        try (PreparedStatement order =
            c.prepareStatement(
                "INSERT INTO shop.orders (customer, amount) VALUES (?, ?) RETURNING id")) {
          order.setString(1, customer);
          order.setBigDecimal(2, amount);
          try (ResultSet rs = order.executeQuery()) {
            rs.next();
            orderId = rs.getLong(1);
          }
        }
        OUTBOX.publish(
            c,
            OutboxEvent.builder()
                .aggregate("order", Long.toString(orderId)) // topic outbox.order, key = order id
                .type("OrderPlaced")
                .payload(new OrderPlaced(orderId, customer, amount))
                .build());
        c.commit();
        return orderId;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }
  // end::place-order[]
}
