package dev.unpoll.samples.orders.migrated;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.consumer.DualRunClaim;
import dev.unpoll.consumer.EventHandler;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.InboundEvent;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.consumer.LegacyRows;
import dev.unpoll.consumer.NonRetryableException;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.samples.orders.IntegrationRow;
import dev.unpoll.samples.orders.ShipmentHandler;
import dev.unpoll.samples.orders.ShippingPoller;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.ZoneOffset;
import javax.sql.DataSource;

/**
 * Service B's new Kafka consumer. It runs the poller's {@link ShipmentHandler} unchanged: the event
 * is turned back into the {@link IntegrationRow} the {@link ShippingPoller} used to read, and the
 * handler runs on the connection of the transaction that records the event's idempotency key.
 *
 * <p>One factory per migration phase: {@link #shadow} (ledger only, no effect), {@link #claiming}
 * (dual-run beside the poller, and alone after cutover), and {@link #forOutboxEvents} for the
 * variant where service A publishes through the transactional outbox instead of the legacy table.
 */
public final class ShippingConsumer {
  /**
   * Kafka group (and {@code unpoll_processed.consumer_group}) of the consumer that handles rows.
   */
  public static final String GROUP = "shipping";

  /** Kafka group of the shadow consumer: its own offsets, so it never moves the real ones. */
  public static final String SHADOW_GROUP = "shipping-shadow";

  private ShippingConsumer() {}

  // tag::row-handler[]
  /**
   * The poller's row logic on events: the relay's row object is read back with {@code ResultSet}-
   * shaped getters into the poller's own {@link IntegrationRow}, exactly as {@code
   * ShippingPoller.pollOnce()} reads it from its {@code SELECT}.
   */
  public static EventHandler integrationRowHandler(ShipmentHandler handler) {
    return LegacyRows.handler(
        (row, connection) ->
            handler.handle(
                connection,
                new IntegrationRow(
                    row.getLong("id"),
                    row.getLong("order_id"),
                    row.getString("event_type"),
                    row.getString("payload"), // jsonb arrives as JSON; read back as its text
                    row.getOffsetDateTime("created_at"))));
  }

  // end::row-handler[]

  // tag::shadow[]
  /** Phase shadow: records the receipt of every event in the ledger; ships nothing. */
  public static IdempotentConsumer shadow(DataSource dataSource, MeterRegistry registry) {
    return IdempotentConsumer.builder()
        .dataSource(dataSource)
        .consumerGroup(SHADOW_GROUP)
        .shadow()
        .meterRegistry(registry)
        .build();
  }

  // end::shadow[]

  // tag::claiming[]
  /**
   * Phases dual-run and cutover: claims each row through the poller's own transition (NEW → DONE,
   * plus its processed_at) in the handler's transaction, so a row is shipped once, by whichever
   * path gets there first. After cutover the claim always wins and keeps the status column true for
   * the cleanup job until the table is retired.
   */
  public static IdempotentConsumer claiming(DataSource dataSource, MeterRegistry registry) {
    // table, key and status values (NEW → DONE; PROCESSING and FAILED never count as the
    // poller's win) come from the mapping the relay runs from: written once, in the YAML
    TableMapping mapping = RelayConfigs.mapping(RelayConfigs.LEGACY, "shop.order_integration");
    DualRunClaim claim = DualRunClaim.from(mapping).processedAtColumn("processed_at").build();
    return IdempotentConsumer.builder()
        .dataSource(dataSource)
        .consumerGroup(GROUP)
        .claim(claim)
        .handler(integrationRowHandler(new ShipmentHandler("consumer")))
        .meterRegistry(registry)
        .build();
  }

  // end::claiming[]

  // tag::outbox-handler[]
  /**
   * The outbox variant: service A publishes {@code OrderPlaced} events ({@link
   * OrderServiceWithOutbox}); there is no integration row any more, so the order id stands in for
   * its id, and the event's type and commit time for the row's columns.
   */
  public static EventHandler orderPlacedHandler(ShipmentHandler handler) {
    ObjectMapper json = new ObjectMapper();
    return (event, connection) -> {
      JsonNode order;
      try {
        order = json.readTree(event.value());
      } catch (IOException e) {
        throw new NonRetryableException(event.coordinates() + ": value is not JSON", e);
      }
      if (order == null || !order.path("orderId").canConvertToLong()) {
        throw new NonRetryableException(event.coordinates() + ": no orderId");
      }
      long orderId = order.get("orderId").asLong();
      handler.handle(
          connection,
          new IntegrationRow(
              orderId,
              orderId,
              event.header(InboundEvent.CE_TYPE).orElse(""),
              event.valueAsString(),
              event
                  .eventTime()
                  .orElseThrow(
                      () -> new NonRetryableException(event.coordinates() + ": no ce_time"))
                  .atOffset(ZoneOffset.UTC)));
    };
  }

  /** Consumes the outbox topic: idempotent on the event id ({@code ce_id}), no claim needed. */
  public static IdempotentConsumer forOutboxEvents(DataSource dataSource, MeterRegistry registry) {
    return IdempotentConsumer.builder()
        .dataSource(dataSource)
        .consumerGroup(GROUP)
        .handler(orderPlacedHandler(new ShipmentHandler("consumer")))
        .meterRegistry(registry)
        .build();
  }

  // end::outbox-handler[]

  // tag::runner[]
  /** Starts consuming {@code topic} with the plain kafka-clients runner; close it to stop. */
  public static KafkaConsumerRunner run(
      IdempotentConsumer consumer, String bootstrapServers, String topic) {
    return run(consumer, bootstrapServers, topic, java.time.Duration.ZERO);
  }

  /**
   * As {@link #run(IdempotentConsumer, String, String)}, gathering records for up to {@code
   * batchWait} into one transaction (docs/consumers.md, "Batch wait").
   */
  public static KafkaConsumerRunner run(
      IdempotentConsumer consumer,
      String bootstrapServers,
      String topic,
      java.time.Duration batchWait) {
    return KafkaConsumerRunner.builder()
        .bootstrapServers(bootstrapServers)
        .topics(topic)
        .consumer(consumer)
        .retryPolicy(RetryPolicy.builder().maxAttempts(5).build()) // then <topic>.DLT
        .batchWait(batchWait)
        .build()
        .start();
  }
  // end::runner[]
}
