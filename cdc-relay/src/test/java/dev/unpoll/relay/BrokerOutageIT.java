package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
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
      try (RelayFixtures.TopicReader reader = new RelayFixtures.TopicReader(own.kafka(), topic)) {
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

      try (RelayFixtures.TopicReader reader = new RelayFixtures.TopicReader(own.kafka(), topic)) {
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
    EmbeddedKafkaBroker own = EmbeddedKafkaBroker.builder().start();
    try (Relay relay =
        Relay.builder()
            .config(RelayFixtures.config(db, yaml(own.kafka().bootstrapServers(), topic)))
            .build()) {
      own.kafka().createTopic(topic, 1);
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(db, "insert into outage_q select g, 'before' from generate_series(1, 50) g");
      try (RelayFixtures.TopicReader reader = new RelayFixtures.TopicReader(own.kafka(), topic)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 50);
        beforeOutage =
            reader.settle(Duration.ofMillis(500)).stream()
                .map(r -> Integer.parseInt(RelayFixtures.key(r)))
                .collect(Collectors.toCollection(TreeSet::new));
      }
      own.close();
      long walBeforeOutageRows = currentWalLsn();
      sql(db, "insert into outage_q select g, 'during' from generate_series(51, 100) g");
      await().atMost(Duration.ofSeconds(90)).until(() -> !relay.isHealthy());
      assertThat(relay.lastError().orElseThrow()).contains("Kafka did not acknowledge");
      assertThat(lsn(relay.lastAcknowledgedLsn().orElseThrow())).isLessThan(walBeforeOutageRows);
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
      try (RelayFixtures.TopicReader reader = new RelayFixtures.TopicReader(shared, newTopic)) {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> reader.poll().stream().map(RelayFixtures::key).distinct().count() >= 50);
        Set<Integer> after =
            reader.settle(Duration.ofSeconds(1)).stream()
                .map(r -> Integer.parseInt(RelayFixtures.key(r)))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(after).containsAll(IntStream.rangeClosed(51, 100).boxed().toList());
      }
    }
  }

  private static long currentWalLsn() throws Exception {
    try (var c = db.connect();
        var s = c.createStatement();
        var rs = s.executeQuery("select pg_current_wal_lsn()::text")) {
      rs.next();
      return lsn(rs.getString(1));
    }
  }

  private static long lsn(String text) {
    String[] parts = text.split("/");
    return (Long.parseLong(parts[0], 16) << 32) | Long.parseLong(parts[1], 16);
  }
}
