package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a dual-run claim that matches no pending row decides: only a row in a done status is the
 * poller's win; a row not visible yet, or held by the poller in progress, is retried, never
 * dropped.
 */
@ExtendWith(UnpollStackExtension.class)
class ClaimOutcomeIT {
  static DataSource ds;
  MeterRegistry registry;
  IdempotentConsumer consumer;

  @BeforeAll
  static void database(TestPostgres server) {
    ds = server.createDatabase("consumer_claim_outcome_it").dataSource();
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    Db.exec(
        ds,
        "CREATE TABLE order_queue (id bigint PRIMARY KEY, status text NOT NULL, payload jsonb)",
        "CREATE TABLE handled (row_id bigint NOT NULL)");
  }

  @BeforeEach
  void consumer() {
    Db.exec(ds, "TRUNCATE order_queue, handled, unpoll_processed, unpoll_shadow_ledger");
    registry = new SimpleMeterRegistry();
    consumer =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup("claim-outcomes")
            .claim(
                DualRunClaim.builder()
                    .table("order_queue")
                    .keyColumns("id")
                    .pendingValues("NEW")
                    .doneValue("DONE")
                    .inProgressValues("PROCESSING")
                    .failedValues("FAILED")
                    .build())
            .handler(
                LegacyRows.handler(
                    (row, c) -> {
                      try (var ps = c.prepareStatement("INSERT INTO handled VALUES (?)")) {
                        ps.setLong(1, row.getLong("id"));
                        ps.executeUpdate();
                      }
                    }))
            .meterRegistry(registry)
            .build();
  }

  static InboundEvent event(long id, String txid) {
    List<Header> headers = new ArrayList<>();
    headers.add(header("ce_id", "public.order_queue:" + id));
    if (txid != null) {
      headers.add(header("unpoll_txid", txid));
    }
    return InboundEvent.of(
        "order-queue",
        0,
        id,
        Long.toString(id).getBytes(StandardCharsets.UTF_8),
        ("{\"id\":" + id + ",\"status\":\"NEW\"}").getBytes(StandardCharsets.UTF_8),
        headers);
  }

  static Header header(String name, String value) {
    return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
  }

  /** Processes as the runner does: an outcome, or a failure the runner retries or dead-letters. */
  Throwable attempt(InboundEvent e, AtomicReference<Outcome> outcome) {
    return catchThrowable(() -> outcome.set(consumer.process(e)));
  }

  /**
   * Issue 11: a table whose name needs quoting, keyed by a timestamptz and text, is claimed from
   * the key the relay writes (the contract's canonical key), and a second delivery finds it done.
   */
  @Test
  void aQuotedTableWithATimestamptzAndTextKeyIsClaimedFromTheCanonicalKey() {
    Db.exec(
        ds,
        "CREATE SCHEMA IF NOT EXISTS \"Fin Ops\"",
        "CREATE TABLE \"Fin Ops\".\"Settlement \"\"Batch\"\" ü\" (booked_at timestamptz, region text,"
            + " status text NOT NULL, PRIMARY KEY (booked_at, region))",
        "INSERT INTO \"Fin Ops\".\"Settlement \"\"Batch\"\" ü\" VALUES"
            + " ('2026-11-21 14:56:52.1234-05', 'x,\"y\"', 'NEW')");
    IdempotentConsumer odd =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup("claim-odd-names")
            .claim(
                DualRunClaim.builder()
                    .schema("Fin Ops")
                    .table("Settlement \"Batch\" ü")
                    .keyColumns("booked_at", "region")
                    .pendingValues("NEW")
                    .doneValue("DONE")
                    .build())
            .handler((event, c) -> {})
            .build();
    String key = "[\"2026-11-21T19:56:52.1234Z\",\"x,\\\"y\\\"\"]";
    InboundEvent e =
        InboundEvent.of(
            "odd",
            0,
            1,
            key.getBytes(StandardCharsets.UTF_8),
            "{}".getBytes(StandardCharsets.UTF_8),
            List.of(header("ce_id", "Fin Ops.Settlement \"Batch\" ü:" + key)));
    assertThat(odd.process(e)).isEqualTo(Outcome.HANDLED);
    assertThat(Db.string(ds, "SELECT status FROM \"Fin Ops\".\"Settlement \"\"Batch\"\" ü\""))
        .isEqualTo("DONE");
    assertThat(odd.process(e)).isEqualTo(Outcome.DUPLICATE);
  }

  @Test
  void rowWhoseInsertIsNotVisibleYetIsRetriedNotCountedAsPollerWon() throws SQLException {
    try (Connection writer = ds.getConnection()) {
      writer.setAutoCommit(false);
      String txid;
      try (Statement s = writer.createStatement()) {
        s.executeUpdate("INSERT INTO order_queue VALUES (1, 'NEW', '{}')");
        // the relay publishes the 32-bit xid it decoded
        try (ResultSet rs =
            s.executeQuery("SELECT (pg_current_xact_id()::text::bigint & 4294967295)::text")) {
          rs.next();
          txid = rs.getString(1);
        }
      }
      // the event overtakes the commit's visibility (decoded, not yet visible)
      InboundEvent e = event(1, txid);
      AtomicReference<Outcome> outcome = new AtomicReference<>();
      Throwable failure = attempt(e, outcome);
      assertThat(failure)
          .as("claim of a row not visible yet must fail retryably, but the outcome was %s", outcome)
          .isNotNull();
      assertThat(RetryPolicy.defaults().isRetryable(failure)).isTrue();
      assertThat(failure)
          .isInstanceOfSatisfying(
              ClaimNotDecidedException.class,
              f ->
                  assertThat(f.reason()).isEqualTo(ClaimNotDecidedException.Reason.NOT_VISIBLE_YET))
          .hasMessageContaining("\"order_queue\" key [1] (order-queue-0@1)")
          .hasMessageNotContaining("{\"id\"");
      assertThat(notDecided("NOT_VISIBLE_YET")).isEqualTo(1);
      assertThat(Db.count(ds, "SELECT count(*) FROM unpoll_processed")).isZero();

      writer.commit();
      // the runner's retry
      assertThat(consumer.process(e)).isEqualTo(Outcome.HANDLED);
    }
    assertThat(Db.string(ds, "SELECT status FROM order_queue WHERE id = 1")).isEqualTo("DONE");
    assertThat(Db.count(ds, "SELECT count(*) FROM handled WHERE row_id = 1")).isEqualTo(1);
  }

  @Test
  void rowHeldInProgressByThePollerAndRequeuedIsHandledByTheConsumer() {
    Db.exec(ds, "INSERT INTO order_queue VALUES (2, 'PROCESSING', '{}')");
    InboundEvent e = event(2, null);
    AtomicReference<Outcome> outcome = new AtomicReference<>();
    Throwable failure = attempt(e, outcome);
    assertThat(failure)
        .as("claim of a row in progress must fail retryably, but the outcome was %s", outcome)
        .isNotNull();
    assertThat(RetryPolicy.defaults().isRetryable(failure)).isTrue();
    assertThat(failure)
        .isInstanceOfSatisfying(
            ClaimNotDecidedException.class,
            f -> assertThat(f.reason()).isEqualTo(ClaimNotDecidedException.Reason.IN_PROGRESS));
    assertThat(notDecided("IN_PROGRESS")).isEqualTo(1);
    assertThat(Db.count(ds, "SELECT count(*) FROM unpoll_processed")).isZero();

    // the poller crashes; its recovery re-queues the row
    Db.exec(ds, "UPDATE order_queue SET status = 'NEW' WHERE id = 2");
    assertThat(consumer.process(e)).isEqualTo(Outcome.HANDLED);
    assertThat(Db.string(ds, "SELECT status FROM order_queue WHERE id = 2")).isEqualTo("DONE");
    assertThat(Db.count(ds, "SELECT count(*) FROM handled WHERE row_id = 2")).isEqualTo(1);
  }

  @Test
  void rowInADoneStatusIsThePollersWinAndIsInTheShadowLedger() {
    Db.exec(ds, "INSERT INTO order_queue VALUES (3, 'DONE', '{}')");
    assertThat(consumer.process(event(3, null))).isEqualTo(Outcome.POLLER_WON);
    assertThat(Db.count(ds, "SELECT count(*) FROM handled")).isZero();
    assertThat(Db.count(ds, "SELECT count(*) FROM unpoll_processed")).isZero();
    // recorded as received, so a rollback to shadow and forward to dual again finds it
    assertThat(
            Db.count(
                ds,
                "SELECT count(*) FROM unpoll_shadow_ledger WHERE consumer_group = 'claim-outcomes'"
                    + " AND idempotency_key = 'public.order_queue:3'"))
        .isEqualTo(1);
  }

  @Test
  void failedOrUnknownStatusIsRetriedAndCountedByReason() {
    Db.exec(ds, "INSERT INTO order_queue VALUES (4, 'FAILED', '{}'), (5, 'ON_HOLD', '{}')");
    assertThat(catchThrowable(() -> consumer.process(event(4, null))))
        .isInstanceOfSatisfying(
            ClaimNotDecidedException.class,
            f -> assertThat(f.reason()).isEqualTo(ClaimNotDecidedException.Reason.FAILED));
    assertThat(catchThrowable(() -> consumer.process(event(5, null))))
        .isInstanceOfSatisfying(
            ClaimNotDecidedException.class,
            f -> assertThat(f.reason()).isEqualTo(ClaimNotDecidedException.Reason.UNKNOWN_STATUS))
        .hasMessageContaining("'ON_HOLD'")
        .hasMessageContaining("add it to the mapping's status values");
    assertThat(notDecided("FAILED")).isEqualTo(1);
    assertThat(notDecided("UNKNOWN_STATUS")).isEqualTo(1);
    assertThat(Db.count(ds, "SELECT count(*) FROM unpoll_processed")).isZero();
    assertThat(Db.count(ds, "SELECT count(*) FROM unpoll_shadow_ledger")).isZero();
  }

  @Test
  void absentRowWithoutTxidIsRetriedAndDeletedRowWithVisibleTxidIsNotHandled() throws SQLException {
    assertThat(catchThrowable(() -> consumer.process(event(6, null))))
        .isInstanceOfSatisfying(
            ClaimNotDecidedException.class,
            f -> assertThat(f.reason()).isEqualTo(ClaimNotDecidedException.Reason.ABSENT_UNKNOWN));

    String txid;
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.executeUpdate("INSERT INTO order_queue VALUES (7, 'NEW', '{}')");
        try (ResultSet rs =
            s.executeQuery("SELECT (pg_current_xact_id()::text::bigint & 4294967295)::text")) {
          rs.next();
          txid = rs.getString(1);
        }
      }
      c.commit();
    }
    // the poller handled it and its cleanup deleted it
    Db.exec(ds, "DELETE FROM order_queue WHERE id = 7");
    assertThat(consumer.process(event(7, txid))).isEqualTo(Outcome.ROW_DELETED);
    assertThat(Db.count(ds, "SELECT count(*) FROM handled")).isZero();
    assertThat(Db.count(ds, "SELECT count(*) FROM unpoll_processed")).isZero();
    assertThat(counter(ConsumerMetrics.ROW_DELETED)).isEqualTo(1);
  }

  double notDecided(String reason) {
    var c =
        registry
            .find(ConsumerMetrics.CLAIM_NOT_DECIDED)
            .tag(ConsumerMetrics.TAG_REASON, reason)
            .counter();
    return c == null ? 0 : c.count();
  }

  double counter(String name) {
    var c = registry.find(name).counter();
    return c == null ? 0 : c.count();
  }
}
