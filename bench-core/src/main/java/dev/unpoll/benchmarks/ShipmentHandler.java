package dev.unpoll.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.consumer.EventHandler;
import dev.unpoll.consumer.InboundEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The effect every consumer variant applies: parse the {@code OrderCreated} payload and insert one
 * row into {@code shipments}. The row carries the event's {@code ce_id} and topic only so that the
 * harness can check afterwards that every event's effect is there exactly once; {@code shipments}
 * has no unique index besides its generated primary key, so a second application of an event shows
 * up as a second row instead of failing.
 */
final class ShipmentHandler implements EventHandler {
  static final String DDL =
      "CREATE TABLE shipments (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
          + " order_id bigint NOT NULL, customer text NOT NULL, amount numeric(12,2) NOT NULL,"
          + " event_id text NOT NULL, topic text NOT NULL,"
          + " created_at timestamptz NOT NULL DEFAULT now())";

  private static final String INSERT =
      "INSERT INTO shipments (order_id, customer, amount, event_id, topic) VALUES (?, ?, ?, ?, ?)";

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public void handle(InboundEvent event, Connection connection) throws SQLException {
    JsonNode order;
    try {
      order = JSON.readTree(event.value());
    } catch (IOException e) {
      throw new UncheckedIOException(event.coordinates() + ": payload is not JSON", e);
    }
    try (PreparedStatement ps = connection.prepareStatement(INSERT)) {
      ps.setLong(1, order.get("orderId").asLong());
      ps.setString(2, order.get("customer").asText());
      ps.setBigDecimal(3, new BigDecimal(order.get("amount").asText()));
      ps.setString(4, event.header(InboundEvent.CE_ID).orElseThrow());
      ps.setString(5, event.topic());
      ps.executeUpdate();
    }
  }
}
