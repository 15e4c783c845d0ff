package dev.unpoll.samples.orders.boot;

import java.time.OffsetDateTime;

/**
 * A row of {@code shop.inventory_integration} or {@code shop.payment_integration} as a poller reads
 * it. The Kafka listeners fill the same record from the relay's event.
 */
public record IntegrationRow(
    long id, long orderId, String eventType, String payload, OffsetDateTime createdAt) {}
