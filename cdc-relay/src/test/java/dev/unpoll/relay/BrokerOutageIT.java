package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kafka away for a while. A short outage (shorter than the producer's delivery timeout) is retried
 * by the running relay, with nothing lost. An outage that outlasts the delivery timeout stops the
 * relay without committing, and a restart against a reachable cluster publishes every row the dead
 * broker never acknowledged.
 */
@ExtendWith(UnpollStackExtension.class)
class BrokerOutageIT {

  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_outage_it");
    sql(
        db,
        "create table outage_q (id int primary key, note text)",
        "create table short_outage_q (id int primary key, note text)");
  }

  @Test
  void aShortOutageIsRetriedByTheRunningRelayWithNothingLost() throws Exception {
    String topic = "short-outage";
    EmbeddedKafkaBroker own = EmbeddedKafkaBroker.builder().start();
    String yaml =
        """
        source:
          jdbc-url: %s
          user: %s
          password: ${TEST_DB_PASSWORD}
          slot: short_outage_it
          publication: short_outage_it
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
          properties:
            delivery.timeout.ms: 60000
            request.timeout.ms: 5000
            reconnect.backoff.max.ms: 500
        tables:
          - table: short_outage_q
            topic: %s
        """
            .formatted(db.jdbcUrl(), db.user(), own.kafka().bootstrapServers(), topic);
    try (Relay relay = Relay.builder().config(RelayFixtures.config(db, yaml)).build()) {
      own.kafka().createTopic(topic, 1);
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(db, "insert into short_outage_q select g, 'before' from generate_series(1, 50) g");
      try (TopicReader reader = new TopicReader(own.kafka(), topic)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 50);
      }

      own.shutdownBroker();
      try (org.apache.kafka.clients.admin.Admin probe =
          org.apache.kafka.clients.admin.Admin.create(
              java.util.Map.of(
                  "bootstrap.servers", own.kafka().bootstrapServers(),
                  "default.api.timeout.ms", 2000,
                  "request.timeout.ms", 1000))) {
        assertThat(probe.describeCluster().nodes())
            .as("the broker is really away")
            .failsWithin(Duration.ofSeconds(5));
      }
      sql(db, "insert into short_outage_q select g, 'during' from generate_series(51, 100) g");
      // Rows committed while the broker is away: the relay keeps them in flight and retries.
      await()
          .pollDelay(Duration.ofSeconds(5))
          .atMost(Duration.ofSeconds(10))
          .until(relay::isHealthy);
      own.restartBroker();
      sql(db, "insert into short_outage_q select g, 'after' from generate_series(101, 150) g");

      try (TopicReader reader = new TopicReader(own.kafka(), topic)) {
        await()
            .atMost(Duration.ofSeconds(90))
            .until(() -> reader.poll().stream().map(RelayFixtures::key).distinct().count() >= 150);
        Set<Integer> ids =
            reader.settle(Duration.ofSeconds(1)).stream()
                .map(r -> Integer.parseInt(RelayFixtures.key(r)))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(ids).containsExactlyElementsOf(IntStream.rangeClosed(1, 150).boxed().toList());
      }
      assertThat(relay.isHealthy()).as("the relay rode out the outage without failing").isTrue();
      assertThat(relay.lastError()).isEmpty();
    } finally {
      own.close();
    }
  }

  private static String yaml(String bootstrap, String topic) {
    return """
        source:
          jdbc-url: %s
          user: %s
          password: ${TEST_DB_PASSWORD}
          slot: outage_it
          publication: outage_it
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
          properties:
            delivery.timeout.ms: 6000
            request.timeout.ms: 2000
            reconnect.backoff.max.ms: 500
            max.block.ms: 5000
        tables:
          - table: outage_q
            topic: %s
        """
        .formatted(db.jdbcUrl(), db.user(), bootstrap, topic);
  }

  @Test
  void anOutageStopsTheRelayWithoutCommittingAndARestartPublishesEveryUnacknowledgedRow(
      TestKafka shared) throws Exception {
    String topic = "outage";
    Set<Integer> beforeOutage;
    long ackedBeforeRestart;
    EmbeddedKafkaBroker own = EmbeddedKafkaBroker.builder().start();
    try (Relay relay =
        Relay.builder()
            .config(RelayFixtures.config(db, yaml(own.kafka().bootstrapServers(), topic)))
            .build()) {
      own.kafka().createTopic(topic, 1);
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(db, "insert into outage_q select g, 'before' from generate_series(1, 50) g");
      try (TopicReader reader = new TopicReader(own.kafka(), topic)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 50);
        beforeOutage =
            reader.settle(Duration.ofMillis(500)).stream()
                .map(r -> Integer.parseInt(RelayFixtures.key(r)))
                .collect(Collectors.toCollection(TreeSet::new));
      }
      own.close();
      insertOutageRowsWithoutInterleavedHeartbeats();
      await().atMost(Duration.ofSeconds(90)).until(() -> !relay.isHealthy());
      assertThat(relay.lastError().orElseThrow()).contains("Kafka did not acknowledge");
      ackedBeforeRestart = lsn(relay.lastAcknowledgedLsn().orElseThrow());
    } finally {
      own.close();
    }
    assertThat(beforeOutage)
        .containsExactlyElementsOf(IntStream.rangeClosed(1, 50).boxed().toList());

    String newTopic = shared.createUniqueTopic("outage", 1);
    try (Relay relay =
        Relay.builder()
            .config(RelayFixtures.config(db, yaml(shared.bootstrapServers(), newTopic)))
            .build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      try (TopicReader reader = new TopicReader(shared, newTopic)) {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> reader.poll().stream().map(RelayFixtures::key).distinct().count() >= 50);
        List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(1));
        Set<Integer> after =
            records.stream()
                .map(r -> Integer.parseInt(RelayFixtures.key(r)))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(after).containsAll(IntStream.rangeClosed(51, 100).boxed().toList());
        // The relay may acknowledge changes the broker never had to take (heartbeats committed
        // before the outage rows), but never a position at or past a row Kafka did not take: the
        // exact LSN of each outage row is in the header of its re-published event.
        long firstUnacknowledged =
            records.stream()
                .filter(r -> Integer.parseInt(RelayFixtures.key(r)) > 50)
                .mapToLong(r -> lsn(RelayFixtures.header(r, "unpoll_lsn")))
                .min()
                .orElseThrow();
        assertThat(ackedBeforeRestart)
            .as("last acknowledged LSN vs the first row Kafka did not acknowledge")
            .isLessThan(firstUnacknowledged);
      }
    }
  }

  /**
   * Inserts rows 51-100 in one transaction that holds the heartbeat table's lock, so that no
   * heartbeat's change lands among the rows in the WAL while committing before them: every
   * heartbeat commits either before the rows' first change or after their commit, and the last
   * acknowledged LSN can be compared with the rows' own LSNs exactly.
   */
  private static void insertOutageRowsWithoutInterleavedHeartbeats() throws Exception {
    try (var c = db.connect();
        var s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute(
          "lock table "
              + dev.unpoll.contract.RelayNames.HEARTBEAT_TABLE.quoted()
              + " in share row exclusive mode");
      s.execute("insert into outage_q select g, 'during' from generate_series(51, 100) g");
      c.commit();
    }
  }

  private static long lsn(String text) {
    String[] parts = text.split("/");
    return (Long.parseLong(parts[0], 16) << 32) | Long.parseLong(parts[1], 16);
  }
}
