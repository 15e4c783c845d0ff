package dev.unpoll.samples.orders;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Service B's row logic: what the poller does with each row. It is deliberately written against a
 * plain {@link Connection} and an {@link IntegrationRow}, as legacy handlers are, so that the event
 * path can run it unchanged.
 */
public final class ShipmentHandler {
  private final String path;

  /**
   * @param path who handles the row ({@code poller} or {@code consumer}), for the handling log
   */
  public ShipmentHandler(String path) {
    this.path = path;
  }

  public void handle(Connection c, IntegrationRow row) throws SQLException {
    try (PreparedStatement log =
        c.prepareStatement(
            "INSERT INTO shipping.handling_log (integration_id, handled_by, row_created_at)"
                + " VALUES (?, ?, ?)")) {
      log.setLong(1, row.id());
      log.setString(2, path);
      log.setObject(3, row.createdAt());
      log.executeUpdate();
    }
    if (!"OrderPlaced".equals(row.eventType())) {
      return;
    }
    try (PreparedStatement ship =
        c.prepareStatement(
            "INSERT INTO shipping.shipments (order_id, integration_id, customer)"
                + " VALUES (?, ?, (?::jsonb) ->> 'customer') ON CONFLICT (order_id) DO NOTHING")) {
      ship.setLong(1, row.orderId());
      ship.setLong(2, row.id());
      ship.setString(3, row.payload());
      ship.executeUpdate();
    }
  }
}
