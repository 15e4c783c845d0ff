package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class BacklogIT {

  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_backlog_it");
  }

  @Test
  void pendingRowsArePublishedOnceThenStreamingContinuesWithNoGapAndNoDuplicateWhileInsertsRace(
      TestKafka kafka) throws Exception {
    String topic = kafka.createUniqueTopic("backlog", 3);
    sql(
        db,
        "create table inbox (id bigserial primary key, body text, status text not null default 'NEW')",
        "insert into inbox (body, status) select 'old-' || g, 'DONE' from generate_series(1, 40) g",
        "insert into inbox (body, status) select 'pending-' || g, 'NEW' from generate_series(1, 60) g",
        "insert into inbox (body, status) select 'failed-' || g, 'FAILED' from generate_series(1, 5) g");
    String yaml =
        RelayFixtures.baseYaml(db, kafka, "backlog_it")
            + """
            tables:
              - table: inbox
                topic: %s
                status: {column: status, pending: [NEW, FAILED], done: [DONE]}
                backlog: true
            """
                .formatted(topic);
    AtomicBoolean racing = new AtomicBoolean(true);
    AtomicInteger raced = new AtomicInteger();
    Thread writer =
        new Thread(
            () -> {
              try (Connection c = db.connect();
                  PreparedStatement ps =
                      c.prepareStatement("insert into inbox (body) values (?)")) {
                while (racing.get()) {
                  ps.setString(1, "race-" + raced.incrementAndGet());
                  ps.executeUpdate();
                }
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "racing-writer");
    writer.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> raced.get() > 20);
    try (Relay relay = Relay.builder().config(RelayFixtures.config(db, yaml)).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      int atReady = raced.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> raced.get() > atReady + 50);
      racing.set(false);
      writer.join();

      Set<String> expected = new HashSet<>();
      try (Connection c = db.connect();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("select id from inbox where status in ('NEW', 'FAILED')")) {
        while (rs.next()) {
          expected.add(Long.toString(rs.getLong(1)));
        }
      }
      assertThat(expected).hasSizeGreaterThan(65 + 70);
      try (TopicReader reader = new TopicReader(kafka, topic)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= expected.size());
        List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(3));
        List<String> keys = new ArrayList<>(records.stream().map(RelayFixtures::key).toList());
        assertThat(keys).doesNotHaveDuplicates();
        assertThat(new HashSet<>(keys)).isEqualTo(expected);
      }
    }
  }
}
