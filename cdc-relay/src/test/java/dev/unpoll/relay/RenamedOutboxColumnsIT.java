package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxColumn;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 11: an outbox whose columns the writer renamed ({@code Outbox.builder().column(..)}) is
 * relayed when the relay is told the same names ({@code outbox.columns}); before, the relay read
 * only the default names and refused the table.
 */
@ExtendWith(UnpollStackExtension.class)
class RenamedOutboxColumnsIT {

  @Test
  void theWritersRenamedColumnsAreReadThroughOutboxColumns(TestPostgres server, TestKafka kafka)
      throws Exception {
    TestPostgres db = server.createDatabase("relay_renamed_outbox_it");
    Outbox outbox =
        Outbox.builder()
            .table("events_out")
            .column(OutboxColumn.ID, "event_id")
            .column(OutboxColumn.AGGREGATE_TYPE, "agg_type")
            .column(OutboxColumn.AGGREGATE_ID, "agg_id")
            .column(OutboxColumn.TYPE, "event_type")
            .column(OutboxColumn.PAYLOAD, "body")
            .column(OutboxColumn.HEADERS, "meta")
            .build();
    sql(db, outbox.ddl());
    String base = RelayFixtures.baseYaml(db, kafka, "renamed_outbox");
    String yaml =
        base
            + """
            outbox:
              table: public.events_out
              topic-pattern: renamed.${aggregatetype}
              columns: {id: event_id, aggregatetype: agg_type, aggregateid: agg_id, type: event_type,
                        payload: body, headers: meta}
            """;
    // the default names do not exist in this table: the relay says which and where to name them
    Relay wrong =
        Relay.builder()
            .config(
                RelayFixtures.config(
                    db, base + "outbox:\n  table: public.events_out\n  topic-pattern: x\n"))
            .build();
    assertThatThrownBy(wrong::start)
        .hasMessageContaining("column \"aggregatetype\" is missing")
        .hasMessageContaining("outbox.columns.aggregatetype");

    String topic = "renamed.invoice";
    kafka.createTopic(topic, 1);
    try (TopicReader reader = new TopicReader(kafka, topic);
        Relay relay = Relay.builder().config(RelayFixtures.config(db, yaml)).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      OutboxEvent event =
          OutboxEvent.builder()
              .aggregate("invoice", "inv-7")
              .type("InvoiceIssued")
              .payload(Map.of("total", 12))
              .header("tenant", "acme")
              .build();
      try (Connection c = db.connect()) {
        c.setAutoCommit(false);
        outbox.publish(c, event);
        c.commit();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> !reader.poll().isEmpty());
      List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofMillis(300));
      assertThat(records).hasSize(1);
      ConsumerRecord<byte[], byte[]> r = records.get(0);
      assertThat(RelayFixtures.key(r)).isEqualTo("inv-7");
      assertThat(RelayFixtures.value(r)).isEqualTo("{\"total\":12}");
      assertThat(RelayFixtures.header(r, "ce_id")).isEqualTo(event.id().toString());
      assertThat(RelayFixtures.header(r, "ce_type")).isEqualTo("InvoiceIssued");
      assertThat(RelayFixtures.header(r, "tenant")).isEqualTo("acme");
    }
  }
}
