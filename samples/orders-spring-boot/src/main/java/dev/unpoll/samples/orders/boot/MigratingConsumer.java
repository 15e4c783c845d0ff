package dev.unpoll.samples.orders.boot;

import dev.unpoll.consumer.DualRunClaim;
import dev.unpoll.consumer.EventHandler;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.InboundEvent;
import dev.unpoll.consumer.LegacyRows;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * What inventory and payment share on the event path: the {@link IdempotentConsumer} of the
 * migration phase the service runs in ({@code orders.mode}), which the starter's listener container
 * factory runs around every record, and the poller's row logic run on the record.
 */
public final class MigratingConsumer {
  /** The mode a consumer service runs in, from the property {@code orders.mode}. */
  public enum Mode {
    /**
     * Phase shadow: records every event's receipt in the shadow ledger; the listener never runs.
     */
    SHADOW,
    /**
     * Phases dual and cutover: claims the row through the poller's own transition (NEW → DONE) in
     * the listener's transaction; the listener runs only when the claim wins.
     */
    CLAIM,
    /** After retire: idempotent on the event id alone, no claim (the status column may go). */
    PLAIN;

    public static Mode of(String value) {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    }
  }

  private MigratingConsumer() {}

  // tag::consumer-per-phase[]
  /**
   * The service's idempotent consumer for {@code mode}: the starter wraps it in its {@code
   * SpringIdempotentConsumer} and the listener container factory, since the application defines it.
   */
  public static IdempotentConsumer forMode(
      DataSource dataSource,
      IdempotencyStore store,
      Downstream service,
      Mode mode,
      MeterRegistry registry) {
    IdempotentConsumer.Builder b =
        IdempotentConsumer.builder()
            .dataSource(dataSource)
            .store(store) // the starter's, from unpoll.consumer.idempotency.*
            .consumerGroup(service.service());
    if (registry != null) {
      b.meterRegistry(registry);
    }
    switch (mode) {
      case SHADOW -> b.shadow();
      case CLAIM -> b.claim(claim(service));
      case PLAIN -> {}
    }
    return b.build();
  }

  /** The poller's transition, as in the table's mapping in unpoll.yaml (the plan's output). */
  static DualRunClaim claim(Downstream service) {
    String[] table = service.table().split("\\.");
    return DualRunClaim.builder()
        .schema(table[0])
        .table(table[1])
        .keyColumns("id")
        .statusColumn("status")
        .pendingValues("NEW")
        .doneValue("DONE")
        .inProgressValues("PROCESSING")
        .failedValues("FAILED")
        .processedAtColumn("processed_at")
        .build();
  }

  // end::consumer-per-phase[]

  // tag::row-logic[]
  /**
   * Runs the poller's row logic on a record, on the connection of the transaction the starter's
   * factory opened for it (the one that recorded the key and won the claim): the relay's row is
   * read back into the {@link IntegrationRow} the poller reads from its {@code SELECT}.
   */
  public static void handle(ConsumerRecord<?, ?> record, DataSource dataSource, Downstream service)
      throws SQLException {
    EventHandler rowLogic =
        LegacyRows.handler(
            (row, connection) ->
                service.handle(
                    connection,
                    new IntegrationRow(
                        row.getLong("id"),
                        row.getLong("order_id"),
                        row.getString("event_type"),
                        row.getString("payload"),
                        row.getOffsetDateTime("created_at")),
                    "consumer"));
    Connection c = DataSourceUtils.getConnection(dataSource); // joins the listener's transaction
    try {
      rowLogic.handle(InboundEvent.of(record), c);
    } finally {
      DataSourceUtils.releaseConnection(c, dataSource);
    }
  }
  // end::row-logic[]
}
