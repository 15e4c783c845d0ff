package dev.unpoll.samples.orders;

import java.time.OffsetDateTime;

/**
 * A row of {@code shop.order_integration} as the legacy poller reads it: the business columns the
 * handler needs. The same record is filled from a Kafka event once the table is migrated.
 */
public record IntegrationRow(
    long id, long orderId, String eventType, String payload, OffsetDateTime createdAt) {}
