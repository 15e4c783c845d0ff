package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A table added to the relay's publication while the relay runs with a configuration that does not
 * map it yet: what {@code unpoll capture} does for a second table, before the relay is restarted
 * with the new {@code unpoll.yaml}. Before, Debezium's table filter dropped the table's changes and
 * the relay moved its offsets past them, so the rows committed between capture and the restart
 * never reached Kafka. Now the relay stops at the table's first change, and the restarted relay
 * publishes every row.
 */
@ExtendWith(UnpollStackExtension.class)
class UnmappedTableIT {

  @Test
  void rowsOfATableAddedToThePublicationWhileTheRelayRunsArePublishedAfterTheRestart(
      TestPostgres server, TestKafka kafka) throws Exception {
    TestPostgres db = server.createDatabase("relay_unmapped_it");
    sql(
        db,
        "create table first_q (id int primary key, note text)",
        "create table second_q (id int primary key, note text)");
    String firstTopic = kafka.createUniqueTopic("unmapped-first", 1);
    String secondTopic = kafka.createUniqueTopic("unmapped-second", 1);
    String base = RelayFixtures.baseYaml(db, kafka, "unmapped_it");
    String oldYaml =
        base
            + """
            tables:
              - table: first_q
                topic: %s
            """
                .formatted(firstTopic);
    String newYaml =
        oldYaml
            + """
              - table: second_q
                topic: %s
            """
                .formatted(secondTopic);
    List<ConsumerRecord<byte[], byte[]>> first = new ArrayList<>();
    try (TopicReader firstReader = new TopicReader(kafka, firstTopic);
        Relay relay = Relay.builder().config(RelayFixtures.config(db, oldYaml)).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(db, "insert into first_q values (1, 'before')");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                first.addAll(firstReader.poll());
                return first.size() >= 1;
              });
      // what capture does for the second table, then rows of both tables, the second's first
      sql(
          db,
          "alter publication unmapped_it add table second_q",
          "insert into second_q select g, 'while the relay has the old file' from"
              + " generate_series(1, 3) g",
          "insert into first_q values (2, 'after')");
      // the old relay either passes first_q's row 2 (moving its offsets past second_q's rows) or
      // stops at second_q's first row; either way it is closed before the new file is used
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                first.addAll(firstReader.poll());
                return first.size() >= 2 || relay.awaitTermination(Duration.ZERO);
              });
      if (relay.lastError().isPresent()) {
        assertThat(relay.lastError().get()).contains("second_q", "does not map", "unpoll.yaml");
      }
    }

    List<ConsumerRecord<byte[], byte[]>> second = new ArrayList<>();
    try (TopicReader secondReader = new TopicReader(kafka, secondTopic);
        Relay relay = Relay.builder().config(RelayFixtures.config(db, newYaml)).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(db, "insert into second_q values (4, 'after the restart')");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                second.addAll(secondReader.poll());
                return second.stream().anyMatch(r -> RelayFixtures.key(r).equals("4"));
              });
    }
    assertThat(second.stream().map(RelayFixtures::key).distinct())
        .as("rows of second_q committed while the relay had the old file")
        .contains("1", "2", "3", "4");

    // a relay started with the old file now refuses at once, naming the table and the fix
    assertThatThrownBy(
            () -> {
              try (Relay stale =
                  Relay.builder().config(RelayFixtures.config(db, oldYaml)).build()) {
                stale.start();
              }
            })
        .isInstanceOf(RelayConfigException.class)
        .hasMessageContaining("public.second_q")
        .hasMessageContaining("does not map");
  }
}
