package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 11: a table whose quoted name PostgreSQL allows (a space, a double quote, mixed case,
 * non-ASCII) is captured with its backlog, and its {@code ce_source} is a valid URI reference.
 * Before, the relay died at start on the backlog ("Unexpected input" from Debezium's table-name
 * parser) and wrote the space into {@code ce_source}.
 */
@ExtendWith(UnpollStackExtension.class)
class OddNamesIT {

  @Test
  void aQuotedNameWithSpacesQuotesAndUmlautsIsCapturedWithItsBacklog(
      TestPostgres server, TestKafka kafka) {
    TestPostgres db = server.createDatabase("relay_odd_names_it");
    sql(
        db,
        "create schema \"Fin Ops\"",
        "create table \"Fin Ops\".\"Settlement \"\"Batch\"\" ü\" (id int primary key, note text,"
            + " status text not null default 'NEW')",
        "insert into \"Fin Ops\".\"Settlement \"\"Batch\"\" ü\" (id, note) values (1, 'pending')",
        "insert into \"Fin Ops\".\"Settlement \"\"Batch\"\" ü\" values (2, 'handled', 'DONE')");
    String topic = kafka.createUniqueTopic("odd", 1);
    String yaml =
        RelayFixtures.baseYaml(db, kafka, "odd_names")
            + """
            tables:
              - table: '"Fin Ops"."Settlement ""Batch"" ü"'
                topic: %s
                bookkeeping-columns: [status]
                status: {column: status, pending: [NEW], done: [DONE]}
                backlog: true
            """
                .formatted(topic);
    try (TopicReader reader = new TopicReader(kafka, topic);
        Relay relay = Relay.builder().config(RelayFixtures.config(db, yaml)).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(
          db,
          "insert into \"Fin Ops\".\"Settlement \"\"Batch\"\" ü\" (id, note) values (3, 'live')");
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 2);
      List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofMillis(500));
      assertThat(records)
          .extracting(r -> RelayFixtures.header(r, "ce_id"))
          .containsExactlyInAnyOrder(
              "Fin Ops.Settlement \"Batch\" ü:1", "Fin Ops.Settlement \"Batch\" ü:3");
      for (ConsumerRecord<byte[], byte[]> r : records) {
        String source = RelayFixtures.header(r, "ce_source");
        assertThat(source)
            .isEqualTo("/unpoll/relay_odd_names_it/Fin%20Ops.Settlement%20%22Batch%22%20%C3%BC");
        assertThat(URI.create(source).getRawPath()).isEqualTo(source);
      }
    }
  }
}
