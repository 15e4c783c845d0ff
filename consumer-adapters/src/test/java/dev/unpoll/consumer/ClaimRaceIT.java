package dev.unpoll.consumer;

import static dev.unpoll.consumer.TestEvents.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Dual-run: a real poller loop ({@code SELECT ... FOR UPDATE SKIP LOCKED}, handle, {@code UPDATE
 * status}) races the claiming consumer over the same rows; every row must be handled exactly once
 * in total.
 */
@ExtendWith(UnpollStackExtension.class)
class ClaimRaceIT {
  static final int ROWS = 10_000;
  static DataSource ds;

  @BeforeAll
  static void database(TestPostgres server) {
    ds = server.createDatabase("consumer_claim_race_it").dataSource();
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    Db.exec(
        ds,
        "CREATE TABLE \"Order Integration\" (id bigint PRIMARY KEY, order_id bigint NOT NULL,"
            + " payload jsonb, status text NOT NULL, processed_at timestamptz)",
        "INSERT INTO \"Order Integration\" SELECT g, 1000 + g, jsonb_build_object('n', g), 'NEW',"
            + " NULL FROM generate_series(1, "
            + ROWS
            + ") g",
        "CREATE TABLE handled (row_id bigint NOT NULL, path text NOT NULL)");
  }

  // tag::claim[]
  static IdempotentConsumer claimingConsumer(DataSource dataSource, MeterRegistry registry) {
    DualRunClaim claim =
        DualRunClaim.builder()
            .table("Order Integration") // quoted in SQL: mixed case and a space are fine
            .keyColumns("id")
            .statusColumn("status")
            .pendingValues("NEW")
            .doneValue("DONE")
            .inProgressValues("PROCESSING") // the poller holds the row: retried, never "won"
            .failedValues("FAILED") // the poller may re-queue it: retried too
            .processedAtColumn("processed_at") // optional: the poller's own bookkeeping
            .build();
    return IdempotentConsumer.builder()
        .dataSource(dataSource)
        .consumerGroup("orders-service")
        .claim(claim)
        .handler(LegacyRows.handler(ClaimRaceIT::handleRow)) // the poller's code, unchanged
        .meterRegistry(registry)
        .build();
  }

  // end::claim[]

  /** The "poller's row handling": the same code both paths run. */
  static void handleRow(LegacyRow row, Connection c) throws SQLException {
    record(c, row.getLong("id"), "consumer");
  }

  static void record(Connection c, long id, String path) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO handled VALUES (?, ?)")) {
      ps.setLong(1, id);
      ps.setString(2, path);
      ps.executeUpdate();
    }
  }

  /** One poll of the legacy poller; returns how many rows it handled. */
  static int pollOnce(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      List<Long> ids = new ArrayList<>();
      try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id FROM \"Order Integration\" WHERE status = 'NEW' ORDER BY id LIMIT 100"
                      + " FOR UPDATE SKIP LOCKED");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
        }
      }
      for (long id : ids) {
        record(c, id, "poller");
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE \"Order Integration\" SET status = 'DONE', processed_at = now()"
                  + " WHERE id = ANY(?)")) {
        ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
        ps.executeUpdate();
      }
      c.commit();
      return ids.size();
    }
  }

  @Test
  void pollerAndClaimingConsumerHandleEveryRowExactlyOnceInTotal(TestKafka kafka) throws Exception {
    String topic = kafka.createUniqueTopic("order-integration", 3);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int id = 1; id <= ROWS; id++) {
      records.add(
          event(
              topic,
              Integer.toString(id),
              "public.Order Integration:" + id,
              "{\"id\":"
                  + id
                  + ",\"order_id\":"
                  + (1000 + id)
                  + ",\"payload\":{\"n\":"
                  + id
                  + "}}"));
    }
    TestEvents.send(kafka, records);

    MeterRegistry registry = new SimpleMeterRegistry();
    AtomicLong pollerHandled = new AtomicLong();
    AtomicReference<Throwable> pollerFailure = new AtomicReference<>();
    CountDownLatch pollerDone = new CountDownLatch(1);
    Thread poller =
        new Thread(
            () -> {
              try {
                int n;
                do {
                  n = pollOnce(ds);
                  pollerHandled.addAndGet(n);
                  TimeUnit.MILLISECONDS.sleep(10); // the poller's poll interval
                } while (n > 0);
              } catch (Throwable t) {
                pollerFailure.set(t);
              } finally {
                pollerDone.countDown();
              }
            },
            "legacy-poller");
    try (KafkaConsumerRunner runner =
        KafkaConsumerRunner.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topics(topic)
            .consumer(claimingConsumer(ds, registry))
            .concurrency(2)
            .kafkaProperty("max.poll.records", 200)
            .build()
            .start()) {
      // start racing once the consumer is live, so both paths get rows
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> counter(registry, ConsumerMetrics.HANDLED) > 0);
      poller.start();
      assertThat(pollerDone.await(60, TimeUnit.SECONDS)).isTrue();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  counter(registry, ConsumerMetrics.HANDLED)
                          + counter(registry, ConsumerMetrics.POLLER_WON)
                      >= ROWS);
      assertThat(runner.isRunning()).isTrue();
    }
    assertThat(pollerFailure.get()).isNull();

    long consumerHandled = Db.count(ds, "SELECT count(*) FROM handled WHERE path = 'consumer'");
    long pollerRows = Db.count(ds, "SELECT count(*) FROM handled WHERE path = 'poller'");
    assertThat(Db.count(ds, "SELECT count(*) FROM handled")).isEqualTo(ROWS);
    assertThat(Db.count(ds, "SELECT count(DISTINCT row_id) FROM handled")).isEqualTo(ROWS);
    assertThat(
            Db.count(
                ds,
                "SELECT count(*) FROM \"Order Integration\" WHERE status <> 'DONE'"
                    + " OR processed_at IS NULL"))
        .isZero();
    assertThat(pollerRows).isEqualTo(pollerHandled.get());
    assertThat(consumerHandled + pollerRows).isEqualTo(ROWS);
    // a real race: both paths handled rows
    assertThat(consumerHandled).isPositive();
    assertThat(pollerRows).isPositive();
    // counted per path
    assertThat(counter(registry, ConsumerMetrics.HANDLED)).isEqualTo(consumerHandled);
    assertThat(counter(registry, ConsumerMetrics.POLLER_WON)).isEqualTo(pollerRows);
    // verify can tell the paths apart: only the consumer's rows have keys
    assertThat(
            Db.count(
                ds,
                "SELECT count(*) FROM unpoll_processed p JOIN handled h"
                    + " ON p.idempotency_key = 'public.Order Integration:' || h.row_id"
                    + " WHERE p.consumer_group = 'orders-service' AND h.path = 'consumer'"))
        .isEqualTo(consumerHandled);
    assertThat(
            Db.count(
                ds,
                "SELECT count(*) FROM unpoll_processed WHERE consumer_group = 'orders-service'"))
        .isEqualTo(consumerHandled);
  }

  private static double counter(MeterRegistry r, String name) {
    var c = r.find(name).counter();
    return c == null ? 0 : c.count();
  }
}
