package dev.unpoll.samples.orders;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/** Service A: places an order and, in the same transaction, writes the integration row. */
public final class OrderService {
  private final DataSource dataSource;

  public OrderService(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Returns the id of the integration row written with the order. */
  public long placeOrder(String customer, BigDecimal amount) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
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
        long integrationId;
        try (PreparedStatement row =
            c.prepareStatement(
                "INSERT INTO shop.order_integration (order_id, event_type, payload)"
                    + " VALUES (?, 'OrderPlaced', jsonb_build_object('orderId', ?::bigint,"
                    + " 'customer', ?::text, 'amount', ?::numeric)) RETURNING id")) {
          row.setLong(1, orderId);
          row.setLong(2, orderId);
          row.setString(3, customer);
          row.setBigDecimal(4, amount);
          try (ResultSet rs = row.executeQuery()) {
            rs.next();
            integrationId = rs.getLong(1);
          }
        }
        c.commit();
        return integrationId;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }
}
