package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class IdempotencyStoreIT {
  static DataSource ds;

  @BeforeAll
  static void database(TestPostgres server) {
    ds = server.createDatabase("consumer_store_it").dataSource();
  }

  static InboundEvent event(String key, String ceId) {
    return InboundEvent.of(
        "orders",
        0,
        0,
        key.getBytes(StandardCharsets.UTF_8),
        "{}".getBytes(StandardCharsets.UTF_8),
        List.of(new RecordHeader("ce_id", ceId.getBytes(StandardCharsets.UTF_8))));
  }

  @Test
  void createsTablesInAConfiguredSchemaWhoseNameNeedsQuotingAndIsIdempotent() {
    IdempotencyStore store = IdempotencyStore.builder().schema("Consumer Store").build();
    store.createTablesIfAbsent(ds);
    store.createTablesIfAbsent(ds);
    assertThat(
            Db.count(
                ds,
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'Consumer"
                    + " Store' AND table_name = 'unpoll_processed' AND column_name IN"
                    + " ('consumer_group', 'idempotency_key', 'processed_at')"))
        .isEqualTo(3);
    assertThat(
            Db.count(
                ds,
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'Consumer"
                    + " Store' AND table_name = 'unpoll_shadow_ledger' AND column_name IN"
                    + " ('consumer_group', 'idempotency_key', 'received_at', 'event_time')"))
        .isEqualTo(4);
    assertThat(
            Db.string(
                ds,
                "SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum))"
                    + " FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND"
                    + " a.attnum = ANY(i.indkey) WHERE i.indisprimary AND i.indrelid ="
                    + " '\"Consumer Store\".unpoll_processed'::regclass"))
        .isEqualTo("consumer_group,idempotency_key");
  }

  @Test
  void shippedDdlResourceCreatesTheTablesInTheCurrentSchema() throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA flyway_like");
      s.execute("SET search_path TO flyway_like");
      s.execute(IdempotencyStore.shippedDdl());
    }
    assertThat(
            Db.count(
                ds,
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'flyway_like'"))
        .isEqualTo(2);
  }

  @Test
  void tellsFirstTimeFromDuplicateOnlyOnceCommitted() throws SQLException {
    IdempotencyStore store = IdempotencyStore.builder().schema("s_record").build();
    store.createTablesIfAbsent(ds);
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      assertThat(store.tryRecord(c, "g", "k1")).isTrue();
      assertThat(store.tryRecord(c, "g", "k1")).isFalse();
      assertThat(store.tryRecord(c, "other-group", "k1")).isTrue();
      c.rollback();
      assertThat(store.tryRecord(c, "g", "k1")).isTrue(); // the rollback took the key with it
      assertThat(store.tryRecordAll(c, "g", List.of("k1", "k2", "k3", "k2")))
          .isEqualTo(Set.of("k2", "k3"));
      c.commit();
      assertThat(store.isRecorded(c, "g", "k3")).isTrue();
    }
  }

  @Test
  void recordAllNewFailsWithAUniqueViolationOnARecordedKey() throws SQLException {
    IdempotencyStore store = IdempotencyStore.builder().schema("s_record_all").build();
    store.createTablesIfAbsent(ds);
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      store.recordAllNew(c, "g", new LinkedHashSet<>(List.of("k1", "k2")));
      store.recordAllNew(c, "g", Set.of());
      c.commit();
      assertThatThrownBy(() -> store.recordAllNew(c, "g", new LinkedHashSet<>(List.of("k3", "k2"))))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> assertThat(e.getSQLState()).isEqualTo(IdempotencyStore.UNIQUE_VIOLATION));
      c.rollback();
      assertThat(store.isRecorded(c, "g", "k2")).isTrue();
      assertThat(store.isRecorded(c, "g", "k3")).isFalse(); // the rollback took it
    }
  }

  /**
   * A batch with keys recorded already (a redelivery) takes the optimistic insert's way back: its
   * transaction is rolled back before any handler runs and the batch is redone with the insert that
   * names the new keys. Each effect happens once, whether the old key was committed before the
   * batch or by a transaction still open while the batch runs (left open on purpose, so the batch
   * waits on the key's lock and sees it committed).
   */
  @Test
  void batchWithRecordedKeysHandlesOnlyTheNewOnesOnce() throws Exception {
    Db.exec(ds, "CREATE TABLE batch_effect (ce_id text NOT NULL)");
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    IdempotentConsumer consumer =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup("batch")
            .handler(
                (e, c) -> {
                  try (var ps = c.prepareStatement("INSERT INTO batch_effect VALUES (?)")) {
                    ps.setString(1, e.header("ce_id").orElseThrow());
                    ps.executeUpdate();
                  }
                })
            .build();
    assertThat(consumer.processBatch(List.of(event("a", "b-1"), event("b", "b-2"))))
        .containsExactly(Outcome.HANDLED, Outcome.HANDLED);
    assertThat(
            consumer.processBatch(List.of(event("b", "b-2"), event("c", "b-3"), event("c", "b-3"))))
        .containsExactly(Outcome.DUPLICATE, Outcome.HANDLED, Outcome.DUPLICATE);

    try (Connection open = ds.getConnection()) {
      open.setAutoCommit(false);
      assertThat(IdempotencyStore.defaults().tryRecord(open, "batch", "b-4")).isTrue();
      var batch =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> consumer.processBatch(List.of(event("d", "b-4"), event("e", "b-5"))));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  Db.count(
                          ds,
                          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                              + " AND query LIKE '%unpoll_processed%'")
                      == 1);
      open.commit();
      assertThat(batch.get(60, java.util.concurrent.TimeUnit.SECONDS))
          .containsExactly(Outcome.DUPLICATE, Outcome.HANDLED);
    }
    assertThat(Db.count(ds, "SELECT count(*) FROM batch_effect")).isEqualTo(4);
    assertThat(Db.count(ds, "SELECT count(DISTINCT ce_id) FROM batch_effect")).isEqualTo(4);
    assertThat(Db.count(ds, "SELECT count(*) FROM batch_effect WHERE ce_id = 'b-4'")).isZero();
    assertThat(Db.count(ds, "SELECT count(*) FROM unpoll_processed WHERE consumer_group = 'batch'"))
        .isEqualTo(5);
  }

  @Test
  void purgeDeletesOnlyKeysOlderThanRetentionInBoundedBatches() throws SQLException {
    // tag::store[]
    IdempotencyStore store =
        IdempotencyStore.builder()
            .schema("s_purge") // default: the connection's current schema
            .retention(Duration.ofDays(7))
            .purgeBatchSize(10) // rows per purge transaction
            .build();
    store.createTablesIfAbsent(ds); // or run IdempotencyStore.DDL_RESOURCE with Flyway/Liquibase
    // end::store[]
    Db.exec(
        ds,
        "INSERT INTO s_purge.unpoll_processed SELECT 'g', 'old-' || i, now() - interval '8 days'"
            + " FROM generate_series(1, 25) i",
        "INSERT INTO s_purge.unpoll_processed SELECT 'g', 'new-' || i, now() - interval '6 days'"
            + " FROM generate_series(1, 5) i");
    assertThat(store.purge(ds)).isEqualTo(25);
    assertThat(Db.count(ds, "SELECT count(*) FROM s_purge.unpoll_processed")).isEqualTo(5);
    assertThat(store.purge(ds, Duration.ofDays(5))).isEqualTo(5);
    assertThat(store.retention()).isEqualTo(Duration.ofDays(7));
  }

  @Test
  void claimWithCompositeKeyRunsTheHandlerOnlyWhileTheRowIsPending() {
    Db.exec(
        ds,
        "CREATE SCHEMA legacy",
        "CREATE TABLE legacy.queue (id bigint, region text, \"State\" text, PRIMARY KEY (id,"
            + " region))",
        "INSERT INTO legacy.queue VALUES (42, 'EU', 'NEW'), (42, 'US', 'RETRY'), (43, 'EU',"
            + " 'DONE')",
        "CREATE TABLE legacy.effects (k text)");
    IdempotencyStore store = IdempotencyStore.builder().schema("s_claim").build();
    store.createTablesIfAbsent(ds);
    IdempotentConsumer consumer =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup("claims")
            .store(store)
            .claim(
                DualRunClaim.builder()
                    .schema("legacy")
                    .table("queue")
                    .keyColumns("id", "region")
                    .statusColumn("State")
                    .pendingValues("NEW", "RETRY")
                    .doneValue("DONE")
                    .build())
            .handler(
                (e, c) -> {
                  try (var ps = c.prepareStatement("INSERT INTO legacy.effects VALUES (?)")) {
                    ps.setString(1, e.keyAsString());
                    ps.executeUpdate();
                  }
                })
            .build();
    assertThat(consumer.process(event("[42,\"EU\"]", "q:42-EU"))).isEqualTo(Outcome.HANDLED);
    assertThat(consumer.process(event("[42,\"US\"]", "q:42-US"))).isEqualTo(Outcome.HANDLED);
    assertThat(consumer.process(event("[43,\"EU\"]", "q:43-EU"))).isEqualTo(Outcome.POLLER_WON);
    assertThat(consumer.process(event("[42,\"EU\"]", "q:42-EU"))).isEqualTo(Outcome.DUPLICATE);
    assertThat(Db.count(ds, "SELECT count(*) FROM legacy.effects")).isEqualTo(2);
    assertThat(Db.count(ds, "SELECT count(*) FROM legacy.queue WHERE \"State\" = 'DONE'"))
        .isEqualTo(3);
    // the poller's row has no key: verify can tell who handled what
    assertThat(Db.count(ds, "SELECT count(*) FROM s_claim.unpoll_processed")).isEqualTo(2);
    assertThatThrownBy(() -> consumer.process(event("42", "q:bad")))
        .isInstanceOf(NonRetryableException.class)
        .hasMessageContaining("not a JSON array of 2 values");
  }
}
