package dev.unpoll.samples.orders.boot;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The two services that consume an order, and their row logic: what each poller does with a row,
 * written against a plain {@link Connection} as legacy handlers are, so that the Kafka listener
 * runs it unchanged on the connection of its transaction.
 */
public enum Downstream {
  /** Reserves stock: one reservation per order. */
  INVENTORY("inventory", "shop.inventory_integration", "shop.inventory-integration") {
    @Override
    void effect(Connection c, IntegrationRow row) throws SQLException {
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO inventory.reservations (order_id, integration_id) VALUES (?, ?)"
                  + " ON CONFLICT (order_id) DO NOTHING")) {
        ps.setLong(1, row.orderId());
        ps.setLong(2, row.id());
        ps.executeUpdate();
      }
    }
  },
  /** Charges the customer: one charge per order, of the payload's amount. */
  PAYMENT("payment", "shop.payment_integration", "shop.payment-integration") {
    @Override
    void effect(Connection c, IntegrationRow row) throws SQLException {
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO payment.charges (order_id, integration_id, amount)"
                  + " VALUES (?, ?, ((?::jsonb) ->> 'amount')::numeric)"
                  + " ON CONFLICT (order_id) DO NOTHING")) {
        ps.setLong(1, row.orderId());
        ps.setLong(2, row.id());
        ps.setString(3, row.payload());
        ps.executeUpdate();
      }
    }
  };

  private final String service;
  private final String table;
  private final String topic;

  Downstream(String service, String table, String topic) {
    this.service = service;
    this.table = table;
    this.topic = topic;
  }

  /** The service's name: its schema, its Kafka consumer group. */
  public String service() {
    return service;
  }

  /** Its legacy integration table, {@code schema.table}. */
  public String table() {
    return table;
  }

  /** The topic the relay publishes the table's inserts to (the {@code plan --topic}). */
  public String topic() {
    return topic;
  }

  /**
   * Handles one row: records it in the service's handling log with {@code path} ({@code poller} or
   * {@code consumer}), then applies the service's effect for an {@code OrderPlaced} row.
   */
  public void handle(Connection c, IntegrationRow row, String path) throws SQLException {
    try (PreparedStatement log =
        c.prepareStatement(
            "INSERT INTO "
                + service
                + ".handling_log (integration_id, order_id, handled_by) VALUES (?, ?, ?)")) {
      log.setLong(1, row.id());
      log.setLong(2, row.orderId());
      log.setString(3, path);
      log.executeUpdate();
    }
    if ("OrderPlaced".equals(row.eventType())) {
      effect(c, row);
    }
  }

  abstract void effect(Connection c, IntegrationRow row) throws SQLException;
}
