package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A batch in claim mode claims its rows with one update and records receipt with one insert; every
 * row that update did not take is decided one by one as a single event would be. These tests hold
 * the batch to the single event's answers: a claimed row is handled once, a row the poller holds or
 * finished is never handled by the consumer, and the answer is read by position, not by the row's
 * key text.
 */
@ExtendWith(UnpollStackExtension.class)
class BatchClaimIT {
  static DataSource ds;
  IdempotentConsumer consumer;

  @BeforeAll
  static void database(TestPostgres server) {
    ds = server.createDatabase("consumer_batch_claim_it").dataSource();
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    Db.exec(
        ds,
        "CREATE TABLE order_queue (id bigint PRIMARY KEY, status text NOT NULL, payload jsonb)",
        "CREATE TABLE handled (row_id bigint NOT NULL, path text NOT NULL)",
        "CREATE TABLE settlement (booked_at timestamptz, region varchar(2), status text NOT NULL,"
            + " PRIMARY KEY (booked_at, region))");
  }

  @BeforeEach
  void consumer() {
    Db.exec(
        ds,
        "TRUNCATE order_queue, handled, settlement, unpoll_processed, unpoll_shadow_ledger",
        "DROP TABLE IF EXISTS coded, retyped");
    consumer =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup("batch-claim")
            .claim(
                DualRunClaim.builder()
                    .table("order_queue")
                    .keyColumns("id")
                    .pendingValues("NEW")
                    .doneValue("DONE")
                    .inProgressValues("PROCESSING")
                    .build())
            .handler(LegacyRows.handler((row, c) -> handled(c, row.getLong("id"), "consumer")))
            .build();
  }

  static void handled(Connection c, long id, String path) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO handled VALUES (?, ?)")) {
      ps.setLong(1, id);
      ps.setString(2, path);
      ps.executeUpdate();
    }
  }

  static InboundEvent event(long offset, String key, String ceId) {
    return event(offset, key, ceId, "{}");
  }

  static InboundEvent event(long offset, String key, String ceId, String json) {
    return InboundEvent.of(
        "order-queue",
        0,
        offset,
        key.getBytes(StandardCharsets.UTF_8),
        json.getBytes(StandardCharsets.UTF_8),
        List.of(new RecordHeader("ce_id", ceId.getBytes(StandardCharsets.UTF_8))));
  }

  static List<InboundEvent> events(long... ids) {
    List<InboundEvent> out = new ArrayList<>();
    for (long id : ids) {
      out.add(event(id, Long.toString(id), "public.order_queue:" + id, "{\"id\":" + id + "}"));
    }
    return out;
  }

  static long handledBy(String path) {
    return Db.count(ds, "SELECT count(*) FROM handled WHERE path = ?", path);
  }

  @Test
  void aMixedBatchClaimsThePendingRowsAndLeavesThePollersWinsAlone() {
    Db.exec(
        ds,
        "INSERT INTO order_queue VALUES (1, 'NEW', '{\"id\":1}'), (2, 'DONE', '{\"id\":2}'),"
            + " (3, 'NEW', '{\"id\":3}')");
    // event 1 twice: a redelivery inside one poll is the same event, handled once
    List<InboundEvent> batch = events(1, 2, 3);
    batch.add(event(4, "1", "public.order_queue:1", "{\"id\":1}"));

    assertThat(consumer.processBatch(batch))
        .containsExactly(Outcome.HANDLED, Outcome.POLLER_WON, Outcome.HANDLED, Outcome.DUPLICATE);

    assertThat(Db.string(ds, "SELECT string_agg(row_id::text, ',' ORDER BY row_id) FROM handled"))
        .isEqualTo("1,3");
    assertThat(Db.string(ds, "SELECT string_agg(status, ',' ORDER BY id) FROM order_queue"))
        .isEqualTo("DONE,DONE,DONE");
    // every received event is in the ledger, the poller's win too; only handled keys are recorded
    assertThat(Db.count(ds, "SELECT count(*) FROM unpoll_shadow_ledger")).isEqualTo(3);
    assertThat(
            Db.string(
                ds,
                "SELECT string_agg(idempotency_key, ',' ORDER BY idempotency_key)"
                    + " FROM unpoll_processed"))
        .isEqualTo("public.order_queue:1,public.order_queue:3");

    // the whole batch again (a redelivery after a crash before the offset commit)
    assertThat(consumer.processBatch(events(1, 2, 3)))
        .containsExactly(Outcome.DUPLICATE, Outcome.POLLER_WON, Outcome.DUPLICATE);
    assertThat(Db.count(ds, "SELECT count(*) FROM handled")).isEqualTo(2);
  }

  /**
   * The row's key in its column's text form is not the record key: a timestamptz prints in the
   * session's zone, a canonical key is UTC. A batch claim that matched its answer to the events by
   * key text would take its own claimed rows for unclaimed, find them done, and count them as the
   * poller's wins: those events would never be handled.
   */
  @Test
  void claimedRowsAreMatchedToTheirEventsByPositionNotByKeyText() throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("SET TIME ZONE 'America/New_York'");
      s.executeUpdate(
          "INSERT INTO settlement VALUES ('2026-11-21 14:56:52.1234-05', 'eu', 'NEW'),"
              + " ('2026-11-21 14:56:53-05', 'us', 'NEW'), ('2026-11-21 14:56:54-05', 'us', 'DONE'),"
              + " ('2026-11-21 14:56:55-05', 'us', 'NEW')");
    }
    IdempotentConsumer settlements =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup("batch-claim-settlement")
            .claim(
                DualRunClaim.builder()
                    .table("settlement")
                    .keyColumns("booked_at", "region")
                    .pendingValues("NEW")
                    .doneValue("DONE")
                    .build())
            .handler((e, c) -> handled(c, e.offset(), "consumer"))
            .build();
    List<InboundEvent> batch =
        List.of(
            event(1, "[\"2026-11-21T19:56:52.1234Z\",\"eu\"]", "settlement:1"),
            event(2, "[\"2026-11-21T19:56:53Z\",\"us\"]", "settlement:2"),
            event(3, "[\"2026-11-21T19:56:54Z\",\"us\"]", "settlement:3"),
            // longer than varchar(2): never truncated into a match with 'us'
            event(4, "[\"2026-11-21T19:56:55Z\",\"usx\"]", "settlement:4"));

    List<Outcome> outcomes = new ArrayList<>();
    Throwable failure = null;
    try {
      outcomes.addAll(settlements.processBatch(batch));
    } catch (BatchFailedException e) {
      failure = e;
    }
    // the fourth row is absent and without txid: not decided, so the batch fails at it
    assertThat(failure)
        .isInstanceOfSatisfying(
            BatchFailedException.class,
            f -> {
              assertThat(f.failedIndex()).isEqualTo(3);
              assertThat(f.getCause()).isInstanceOf(ClaimNotDecidedException.class);
            });
    assertThat(Db.count(ds, "SELECT count(*) FROM handled")).isZero();
    assertThat(Db.count(ds, "SELECT count(*) FROM settlement WHERE status = 'NEW'")).isEqualTo(3);

    assertThat(settlements.processBatch(batch.subList(0, 3)))
        .containsExactly(Outcome.HANDLED, Outcome.HANDLED, Outcome.POLLER_WON);
    assertThat(Db.string(ds, "SELECT string_agg(row_id::text, ',' ORDER BY row_id) FROM handled"))
        .isEqualTo("1,2");
    assertThat(Db.string(ds, "SELECT string_agg(status, ',' ORDER BY booked_at) FROM settlement"))
        .isEqualTo("DONE,DONE,DONE,NEW");
  }

  /**
   * The poller has locked a row ({@code FOR UPDATE SKIP LOCKED}) and set it done but not committed
   * when the batch claims: the update waits for the poller's transaction, and once that commits the
   * row is the poller's, handled once, by the poller. If the poller instead rolls back (it
   * crashed), the row is pending again and the waiting batch claims it.
   */
  @Test
  void aRowThePollerHoldsIsWaitedForAndIsItsWinOnlyIfItCommits() throws Exception {
    for (boolean pollerCommits : new boolean[] {true, false}) {
      Db.exec(ds, "TRUNCATE order_queue, handled, unpoll_processed, unpoll_shadow_ledger");
      Db.exec(
          ds,
          "INSERT INTO order_queue SELECT g, 'NEW', jsonb_build_object('id', g)"
              + " FROM generate_series(1, 3) g");
      try (Connection poller = ds.getConnection()) {
        poller.setAutoCommit(false);
        try (Statement s = poller.createStatement()) {
          try (ResultSet rs =
              s.executeQuery(
                  "SELECT id FROM order_queue WHERE status = 'NEW' AND id = 2"
                      + " FOR UPDATE SKIP LOCKED")) {
            assertThat(rs.next()).isTrue();
          }
          handled(poller, 2, "poller");
          s.executeUpdate("UPDATE order_queue SET status = 'DONE' WHERE id = 2");
        }
        long pollerPid = pid(poller);
        CompletableFuture<List<Outcome>> batch =
            CompletableFuture.supplyAsync(() -> consumer.processBatch(events(1, 2, 3)));
        // the consumer's update is blocked by exactly the poller's transaction
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    Db.count(
                            ds,
                            "SELECT count(*) FROM pg_stat_activity"
                                + " WHERE ? = ANY(pg_blocking_pids(pid))",
                            pollerPid)
                        == 1);
        assertThat(batch).isNotDone();
        if (pollerCommits) {
          poller.commit();
        } else {
          poller.rollback();
        }
        List<Outcome> outcomes = batch.get(30, TimeUnit.SECONDS);
        if (pollerCommits) {
          assertThat(outcomes)
              .containsExactly(Outcome.HANDLED, Outcome.POLLER_WON, Outcome.HANDLED);
          assertThat(handledBy("poller")).isEqualTo(1);
        } else {
          assertThat(outcomes).containsExactly(Outcome.HANDLED, Outcome.HANDLED, Outcome.HANDLED);
          assertThat(handledBy("poller")).isZero();
        }
      }
      assertThat(Db.count(ds, "SELECT count(*) FROM (SELECT row_id FROM handled GROUP BY row_id)"))
          .as("every row handled, poller commits: %s", pollerCommits)
          .isEqualTo(3);
      assertThat(Db.count(ds, "SELECT count(*) FROM handled")).isEqualTo(3);
    }
  }

  /**
   * The batch claim must find its rows through the table's key index, with the plan PostgreSQL
   * picks for the first executions and with the generic plan it may cache after five: a claim that
   * scanned the whole legacy table would cost more, per batch, than the statements it saves.
   */
  @Test
  void theBatchClaimUsesTheKeyIndexInCustomAndGenericPlans() throws SQLException {
    Db.exec(
        ds,
        "INSERT INTO order_queue SELECT g, 'DONE', '{}' FROM generate_series(1, 200000) g",
        "ANALYZE order_queue");
    DualRunClaim claim =
        DualRunClaim.builder().table("order_queue").keyColumns("id").doneValue("DONE").build();
    try (Connection c = ds.getConnection()) {
      for (String mode : List.of("force_custom_plan", "force_generic_plan")) {
        try (Statement s = c.createStatement()) {
          s.execute("SET plan_cache_mode = " + mode);
        }
        String[] keys = new String[500];
        for (int i = 0; i < keys.length; i++) {
          keys[i] = Integer.toString(1 + i * 397);
        }
        StringBuilder sql = new StringBuilder();
        int n = 0;
        for (char ch : claim.batchSql(c).toCharArray()) {
          sql.append(ch == '?' ? "$" + ++n : String.valueOf(ch));
        }
        StringBuilder b = new StringBuilder();
        try (Statement s = c.createStatement()) {
          s.execute("PREPARE batch_claim AS " + sql);
          try (ResultSet rs =
              s.executeQuery(
                  "EXPLAIN EXECUTE batch_claim('DONE', '{"
                      + String.join(",", keys)
                      + "}', 'NEW', '{id}', 'order_queue', '{id}')")) {
            while (rs.next()) {
              b.append(rs.getString(1)).append('\n');
            }
          }
          s.execute("DEALLOCATE batch_claim");
        }
        String plan = b.toString();
        assertThat(plan).as(mode).contains("Index Scan").doesNotContain("Seq Scan on order_queue");
        if (mode.equals("force_generic_plan")) {
          assertThat(plan)
              .as("a generic plan shows the parameter, not its value")
              .contains("status = $3");
        }
      }
    }
  }

  /**
   * The batch statement itself must take the rows, for every kind of key: the single-record path
   * behind it gives the same outcomes, so a batch claim that silently matched nothing would pass
   * every other test here. And it must take only them: a {@code char(3)} key cast to PostgreSQL's
   * {@code character} ({@code char(1)}) would be cut to 'A' and claim row 'A' for the event of row
   * 'ABC', handling one row twice and the other never; a text key is cast, not compared as text.
   */
  @Test
  void theBatchStatementClaimsExactlyItsRowsForEveryKeyType() throws SQLException {
    Db.exec(
        ds,
        "CREATE TABLE coded (code char(3) PRIMARY KEY, status text NOT NULL)",
        "INSERT INTO coded VALUES ('A', 'NEW'), ('ABC', 'NEW')",
        "INSERT INTO order_queue VALUES (7, 'NEW', '{}'), (8, 'DONE', '{}')",
        "INSERT INTO settlement VALUES ('2026-11-21 14:56:52.1234-05', 'eu', 'NEW')");
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      DualRunClaim codes =
          DualRunClaim.builder().table("coded").keyColumns("code").doneValue("DONE").build();
      assertThat(codes.claimAll(c, List.of(List.of("ABC")))).isEqualTo(bits(0));
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT string_agg(code || '=' || status, ',' ORDER BY code) FROM coded")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("A=NEW,ABC=DONE");
      }

      DualRunClaim orders =
          DualRunClaim.builder().table("order_queue").keyColumns("id").doneValue("DONE").build();
      // "007" is 7 to a bigint; row 8 is the poller's; row 9 is not there
      assertThat(orders.claimAll(c, List.of(List.of("8"), List.of("007"), List.of("9"))))
          .isEqualTo(bits(1));

      DualRunClaim settlements =
          DualRunClaim.builder()
              .table("settlement")
              .keyColumns("booked_at", "region")
              .doneValue("DONE")
              .build();
      assertThat(
              settlements.claimAll(
                  c,
                  List.of(
                      List.of("2026-11-21T19:56:52.1234Z", "eu"),
                      List.of("2026-11-21T19:56:52.1234Z", "eu"))))
          .as("a key twice in one batch is claimed at its first position")
          .isEqualTo(bits(0));
      c.rollback();
    }
  }

  /**
   * The key types are read once and cached; a table altered afterwards must not be claimed through
   * the old casts: the claim statement sees the new types under its own lock, throws (its claims
   * roll back with the transaction), and the next batch reads them again.
   */
  @Test
  void aKeyTypeChangedSinceItWasReadFailsTheBatchAndIsReadAgain() throws SQLException {
    Db.exec(
        ds,
        "CREATE TABLE retyped (id int PRIMARY KEY, status text NOT NULL)",
        "INSERT INTO retyped VALUES (1, 'NEW'), (2, 'NEW')");
    DualRunClaim claim =
        DualRunClaim.builder().table("retyped").keyColumns("id").doneValue("DONE").build();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      assertThat(claim.claimAll(c, List.of(List.of("1")))).isEqualTo(bits(0));
      c.commit();
      Db.exec(ds, "ALTER TABLE retyped ALTER COLUMN id TYPE bigint");
      assertThatThrownBy(() -> claim.claimAll(c, List.of(List.of("2"))))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("the key columns' types changed since they were read");
      c.rollback();
      assertThat(Db.string(ds, "SELECT status FROM retyped WHERE id = 2")).isEqualTo("NEW");
      assertThat(claim.claimAll(c, List.of(List.of("2")))).isEqualTo(bits(0));
      assertThat(claim.batchSql(c)).contains("::bigint");
      c.commit();
    }
    assertThat(Db.string(ds, "SELECT string_agg(status, ',' ORDER BY id) FROM retyped"))
        .isEqualTo("DONE,DONE");
  }

  /** Event times of any year the header can carry reach the ledger exactly, to the microsecond. */
  @Test
  void theLedgerKeepsEachEventTimeToTheMicrosecond() {
    Db.exec(
        ds,
        "INSERT INTO order_queue SELECT g, 'NEW', jsonb_build_object('id', g)"
            + " FROM generate_series(1, 3) g");
    List<String> times =
        List.of(
            "2026-11-21T19:56:52.123456Z",
            "+10000-01-01T00:00:00.000001Z",
            "1969-12-31T23:59:58.5Z");
    List<InboundEvent> batch = new ArrayList<>();
    for (int i = 0; i < times.size(); i++) {
      long id = i + 1;
      batch.add(
          InboundEvent.of(
              "order-queue",
              0,
              id,
              Long.toString(id).getBytes(StandardCharsets.UTF_8),
              ("{\"id\":" + id + "}").getBytes(StandardCharsets.UTF_8),
              List.of(
                  new RecordHeader(
                      "ce_id", ("public.order_queue:" + id).getBytes(StandardCharsets.UTF_8)),
                  new RecordHeader("ce_time", times.get(i).getBytes(StandardCharsets.UTF_8)))));
    }
    assertThat(consumer.processBatch(batch))
        .containsExactly(Outcome.HANDLED, Outcome.HANDLED, Outcome.HANDLED);
    for (int i = 0; i < times.size(); i++) {
      assertThat(
              Db.count(
                  ds,
                  "SELECT count(*) FROM unpoll_shadow_ledger WHERE idempotency_key = ?"
                      + " AND event_time = ?::timestamptz",
                  "public.order_queue:" + (i + 1),
                  times.get(i).replace("+10000", "10000")))
          .as(times.get(i))
          .isEqualTo(1);
    }
  }

  static java.util.BitSet bits(int... set) {
    java.util.BitSet b = new java.util.BitSet();
    for (int i : set) {
      b.set(i);
    }
    return b;
  }

  static long pid(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
