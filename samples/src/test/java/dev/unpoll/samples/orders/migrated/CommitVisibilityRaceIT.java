package dev.unpoll.samples.orders.migrated;

import static dev.unpoll.samples.orders.migrated.Db.count;
import static dev.unpoll.samples.orders.migrated.Db.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.ConsumerMetrics;
import dev.unpoll.consumer.DualRunClaim;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.HeldCommit;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 10, defect 1, end to end: PostgreSQL flushes a commit to the WAL and wakes the walsenders
 * before the transaction becomes visible to other sessions, so the relay can publish a row's insert
 * and the claiming consumer can run its claim before the row can be seen. That must be retried, not
 * taken for the poller's win (after cutover nobody else would ever handle the row).
 *
 * <p>The window is held open deterministically: a private PostgreSQL names a synchronous standby
 * that does not exist, so a commit with {@code synchronous_commit = on} waits in {@code SyncRep}
 * after its WAL flush (decodable) and before it becomes visible. Only the writer's session asks for
 * that; the server default is {@code local}, so the relay's offsets and heartbeats and the
 * consumer's transactions commit at once. A private server keeps the shared one untouched. The
 * writer is released with {@code pg_cancel_backend}: its commit is already durable, PostgreSQL only
 * warns, and the row becomes visible.
 */
@ExtendWith(UnpollStackExtension.class)
class CommitVisibilityRaceIT {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final String GROUP = "visibility-race";
  // the meter names documented in docs/consumers.md, spelled out rather than taken from
  // ConsumerMetrics so that this test also compiles against the consumer from before the fix and
  // shows the defect there (the row stays NEW, counted as the poller's win)
  static final String NOT_DECIDED = "unpoll.consumer.claim.not.decided";
  static final String ROW_DELETED = "unpoll.consumer.claim.row.deleted";

  @Test
  void anEventDecodedBeforeItsRowIsVisibleIsRetriedAndHandledOnce(TestKafka kafka)
      throws Exception {
    String topic = kafka.createUniqueTopic("visibility-race", 1);
    try (EmbeddedPostgresServer server =
        EmbeddedPostgresServer.builder().settings(HeldCommit.SERVER_SETTINGS).start()) {
      TestPostgres db = server.postgres().createDatabase("visibility_race_it");
      exec(
          db,
          "CREATE SCHEMA legacy",
          "CREATE TABLE legacy.jobs (id bigserial PRIMARY KEY, payload text NOT NULL,"
              + " status text NOT NULL DEFAULT 'NEW' CHECK (status IN ('NEW', 'DONE')))",
          "CREATE TABLE handling_log (job_key text NOT NULL)");
      IdempotencyStore.builder().build().createTablesIfAbsent(db.dataSource());

      SimpleMeterRegistry metrics = new SimpleMeterRegistry();
      try (Relay relay = startRelay(db, kafka, topic);
          KafkaConsumerRunner runner = startConsumer(db, kafka, topic, metrics);
          HeldCommit writer = HeldCommit.open(db)) {
        await().atMost(WAIT).until(relay::isStreaming);

        // the writer alone waits for the (absent) synchronous standby
        long id;
        try (Statement s = writer.connection().createStatement();
            ResultSet rs =
                s.executeQuery(
                    "INSERT INTO legacy.jobs (payload) VALUES ('ship it') RETURNING id")) {
          rs.next();
          id = rs.getLong(1);
        }
        writer.commitAndHold();

        // the relay decodes the flushed commit; the consumer claims before the row is visible
        await()
            .atMost(WAIT)
            .until(
                () ->
                    notVisibleYet(metrics) > 0
                        || sum(metrics, ConsumerMetrics.POLLER_WON) > 0
                        || sum(metrics, ConsumerMetrics.HANDLED) > 0
                        || sum(metrics, ConsumerMetrics.DEAD_LETTERED) > 0);
        assertThat(writer.held())
            .as("the writer still waits: the consumer saw the event before the row was visible")
            .isTrue();
        assertThat(writer.committed()).isFalse();
        assertThat(count(db, "SELECT count(*) FROM legacy.jobs"))
            .as("the row is not visible to other sessions yet")
            .isZero();

        // release: the commit is durable already, the cancel ends the wait and the row appears
        writer.release();
        assertThat(count(db, "SELECT count(*) FROM legacy.jobs WHERE id = " + id)).isEqualTo(1);

        await()
            .atMost(WAIT)
            .until(
                () ->
                    sum(metrics, ConsumerMetrics.HANDLED)
                            + sum(metrics, ConsumerMetrics.POLLER_WON)
                            + sum(metrics, ROW_DELETED)
                            + sum(metrics, ConsumerMetrics.DEAD_LETTERED)
                        > 0);
        String outcomes =
            "handled="
                + sum(metrics, ConsumerMetrics.HANDLED)
                + " poller-won="
                + sum(metrics, ConsumerMetrics.POLLER_WON)
                + " row-deleted="
                + sum(metrics, ROW_DELETED)
                + " dead-lettered="
                + sum(metrics, ConsumerMetrics.DEAD_LETTERED)
                + " not-visible-yet="
                + notVisibleYet(metrics)
                + " retries="
                + sum(metrics, ConsumerMetrics.RETRIES);
        assertThat(strings(db, "SELECT status FROM legacy.jobs WHERE id = " + id))
            .as("status of row %d after its event was consumed (%s)", id, outcomes)
            .containsExactly("DONE");
        assertThat(strings(db, "SELECT job_key FROM handling_log"))
            .as("rows handled (%s)", outcomes)
            .containsExactly(Long.toString(id));
        assertThat(sum(metrics, ConsumerMetrics.POLLER_WON)).as(outcomes).isZero();
        assertThat(sum(metrics, ConsumerMetrics.DEAD_LETTERED)).as(outcomes).isZero();
        assertThat(sum(metrics, ConsumerMetrics.HANDLED)).as(outcomes).isEqualTo(1);
        assertThat(notVisibleYet(metrics))
            .as("claims rolled back as not visible yet (%s)", outcomes)
            .isPositive();
        assertThat(relay.isHealthy()).as("relay healthy: %s", relay.lastError()).isTrue();
      }
    }
  }

  private static Relay startRelay(TestPostgres db, TestKafka kafka, String topic) {
    String yaml =
        String.join(
            "\n",
            "source:",
            "  jdbc-url: ${DB_URL}",
            "  user: ${DB_USER}",
            "  password: ${DB_PASSWORD}",
            "  slot: visibility_race",
            "  publication: visibility_race",
            "  heartbeat-interval: 1s",
            "kafka:",
            "  bootstrap-servers: ${KAFKA}",
            "tables:",
            "  - table: legacy.jobs",
            "    topic: " + topic,
            "    status: {column: status, pending: [NEW], done: [DONE]}",
            "http:",
            "  port: 0",
            "");
    UnpollConfig config =
        UnpollConfig.parse(
            yaml,
            Map.of(
                "DB_URL", db.jdbcUrl(),
                "DB_USER", db.user(),
                "DB_PASSWORD", db.password(),
                "KAFKA", kafka.bootstrapServers()));
    Relay relay = Relay.builder().config(config).meterRegistry(new SimpleMeterRegistry()).build();
    relay.start();
    return relay;
  }

  /** The cutover situation: no poller, the claiming consumer alone. */
  private static KafkaConsumerRunner startConsumer(
      TestPostgres db, TestKafka kafka, String topic, MeterRegistry metrics) {
    IdempotentConsumer consumer =
        IdempotentConsumer.builder()
            .dataSource(db.dataSource())
            .consumerGroup(GROUP)
            .claim(
                DualRunClaim.builder()
                    .schema("legacy")
                    .table("jobs")
                    .keyColumns("id")
                    .statusColumn("status")
                    .pendingValues("NEW")
                    .doneValue("DONE")
                    .build())
            .handler(
                (event, connection) -> {
                  try (PreparedStatement ps =
                      connection.prepareStatement(
                          "INSERT INTO handling_log (job_key) VALUES (?)")) {
                    ps.setString(1, event.keyAsString());
                    ps.executeUpdate();
                  }
                })
            .meterRegistry(metrics)
            .build();
    // retries outlive the hold: it ends as soon as the test has seen a claim not decided
    RetryPolicy retry =
        RetryPolicy.builder()
            .maxAttempts(30)
            .initialBackoff(Duration.ofMillis(100))
            .multiplier(1.5)
            .maxBackoff(Duration.ofSeconds(2))
            .build();
    return KafkaConsumerRunner.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topic)
        .consumer(consumer)
        .retryPolicy(retry)
        .build()
        .start();
  }

  private static void exec(TestPostgres db, String... statements) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    }
  }

  private static double notVisibleYet(MeterRegistry registry) {
    return registry.find(NOT_DECIDED).tag("reason", "NOT_VISIBLE_YET").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  private static double sum(MeterRegistry registry, String name) {
    return registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
  }
}
