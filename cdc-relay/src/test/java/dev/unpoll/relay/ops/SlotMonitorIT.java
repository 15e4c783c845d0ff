package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

@ExtendWith(UnpollStackExtension.class)
class SlotMonitorIT {
  private static TestPostgres db;

  private final MeterRegistry registry = new SimpleMeterRegistry();
  private final List<SlotStatus> seen = new CopyOnWriteArrayList<>();
  private SlotMonitor monitor;

  @BeforeAll
  static void database(TestPostgres server) throws SQLException {
    db = server.createDatabase("ops_slot_it");
    sql("CREATE TABLE filler (id bigserial PRIMARY KEY, data text NOT NULL)");
    sql("CREATE PUBLICATION ops_slot_pub FOR TABLE filler");
  }

  @AfterEach
  void cleanUp() throws SQLException {
    if (monitor != null) {
      monitor.close();
    }
    sql(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            + " WHERE database = current_database() AND NOT active");
  }

  private static void sql(String... statements) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String statement : statements) {
        s.execute(statement);
      }
    }
  }

  private static void createSlot(String slot) throws SQLException {
    sql("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
  }

  /** About 5 MB of WAL that compression cannot shrink. */
  private static void writeWal() throws SQLException {
    sql(
        "INSERT INTO filler (data) SELECT md5(random()::text) || md5(random()::text)"
            + " FROM generate_series(1, 40000)");
  }

  private SlotMonitor monitor(String slot, long thresholdBytes) {
    monitor =
        SlotMonitor.builder()
            .jdbcUrl(db.jdbcUrl())
            .user(db.user())
            .password(db.password())
            .slotName(slot)
            .pollInterval(Duration.ofMillis(200))
            .retainedWalWarningBytes(thresholdBytes)
            .meterRegistry(registry)
            .listener(seen::add)
            .build();
    return monitor;
  }

  private double gauge(String name, String slot) {
    return registry.get(name).tag("slot", slot).gauge().value();
  }

  @Test
  void retainedWalOfAnUnconsumedSlotCrossesTheThresholdAndRecoversWhenConsumed() throws Exception {
    createSlot("retained_slot");
    SlotMonitor m = monitor("retained_slot", 1L << 20);

    SlotStatus before = m.poll();
    assertThat(before.state()).isEqualTo(SlotState.OK);
    assertThat(before.active()).isFalse();
    assertThat(before.walStatus()).isEqualTo("reserved");
    assertThat(before.overThreshold()).isFalse();
    assertThat(m.readiness().up()).isTrue();
    assertThat(gauge(SlotMonitor.OVER_THRESHOLD_GAUGE, "retained_slot")).isZero();

    writeWal();
    SlotStatus after = m.poll();

    assertThat(after.state()).isEqualTo(SlotState.OK);
    assertThat(after.retainedWalBytes()).isGreaterThan(1L << 20);
    assertThat(after.lagBytes()).isGreaterThan(1L << 20);
    assertThat(after.overThreshold()).isTrue();
    assertThat(gauge(SlotMonitor.OVER_THRESHOLD_GAUGE, "retained_slot")).isEqualTo(1.0);
    assertThat(gauge(SlotMonitor.RETAINED_WAL_GAUGE, "retained_slot"))
        .isEqualTo((double) after.retainedWalBytes());
    assertThat(gauge(SlotMonitor.LAG_GAUGE, "retained_slot")).isEqualTo((double) after.lagBytes());
    assertThat(m.readiness().up()).isFalse();
    assertThat(m.readiness().reason()).contains("over the threshold");
    assertThat(m.health().up()).isTrue();
    assertThat(seen).extracting(SlotStatus::overThreshold).containsExactly(false, true);

    // A consumer confirming everything releases the WAL: the flag goes back down. A logical slot's
    // restart point moves only past a decoded running-transactions record (a streaming relay
    // passes one at every checkpoint); the insert commits, which flushes that record.
    sql(
        "SELECT pg_log_standby_snapshot()",
        "INSERT INTO filler (data) VALUES ('flush')",
        "SELECT pg_replication_slot_advance('retained_slot', pg_current_wal_lsn())");
    SlotStatus consumed = m.poll();
    assertThat(consumed.lagBytes()).isLessThan(1L << 20);
    assertThat(consumed.overThreshold()).as(consumed.message()).isFalse();
    assertThat(gauge(SlotMonitor.OVER_THRESHOLD_GAUGE, "retained_slot")).isZero();
  }

  @Test
  void droppedSlotIsReportedMissing() throws Exception {
    createSlot("dropped_slot");
    SlotMonitor m = monitor("dropped_slot", 1L << 30).start();
    await().atMost(Duration.ofSeconds(10)).until(() -> m.status().state() == SlotState.OK);
    assertThat(m.health().up()).isTrue();

    sql("SELECT pg_drop_replication_slot('dropped_slot')");

    await().atMost(Duration.ofSeconds(10)).until(() -> m.status().state() == SlotState.MISSING);
    assertThat(m.status().state().fatal()).isTrue();
    assertThat(m.status().message()).contains("'dropped_slot' does not exist");
    assertThat(m.health().up()).isFalse();
    assertThat(m.readiness().up()).isFalse();
    assertThat(gauge(SlotMonitor.RETAINED_WAL_GAUGE, "dropped_slot")).isNaN();
    assertThat(gauge(SlotMonitor.ACTIVE_GAUGE, "dropped_slot")).isZero();
    assertThat(seen).extracting(SlotStatus::state).contains(SlotState.OK, SlotState.MISSING);
  }

  @Test
  void slotThatNeverExistedIsMissingNotHealthy() {
    SlotStatus s = monitor("never_created", 1L << 30).poll();

    assertThat(s.state()).isEqualTo(SlotState.MISSING);
    assertThat(monitor.health().up()).isFalse();
  }

  @Test
  void slotStreamedByAWalsenderIsActive() throws Exception {
    createSlot("streamed_slot");
    SlotMonitor m = monitor("streamed_slot", 1L << 30);
    assertThat(m.poll().active()).isFalse();

    Properties props = new Properties();
    PGProperty.USER.set(props, db.user());
    PGProperty.PASSWORD.set(props, db.password());
    PGProperty.REPLICATION.set(props, "database");
    PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
    PGProperty.PREFER_QUERY_MODE.set(props, "simple");
    try (Connection replication = DriverManager.getConnection(db.jdbcUrl(), props);
        PGReplicationStream stream =
            replication
                .unwrap(PGConnection.class)
                .getReplicationAPI()
                .replicationStream()
                .logical()
                .withSlotName("streamed_slot")
                .withSlotOption("proto_version", "1")
                .withSlotOption("publication_names", "ops_slot_pub")
                .start()) {
      assertThat(stream.isClosed()).isFalse();
      await().atMost(Duration.ofSeconds(10)).until(() -> m.poll().active());
      assertThat(gauge(SlotMonitor.ACTIVE_GAUGE, "streamed_slot")).isEqualTo(1.0);

      // What makes two relays on one slot impossible even without the advisory lock:
      try (Connection second = DriverManager.getConnection(db.jdbcUrl(), props)) {
        assertThatThrownBy(
                () ->
                    second
                        .unwrap(PGConnection.class)
                        .getReplicationAPI()
                        .replicationStream()
                        .logical()
                        .withSlotName("streamed_slot")
                        .withSlotOption("proto_version", "1")
                        .withSlotOption("publication_names", "ops_slot_pub")
                        .start())
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("is active for PID");
      }
    }

    await().atMost(Duration.ofSeconds(10)).until(() -> !m.poll().active());
    assertThat(gauge(SlotMonitor.ACTIVE_GAUGE, "streamed_slot")).isZero();
  }

  @Test
  void slotBeyondMaxSlotWalKeepSizeIsAtRiskThenLostAfterACheckpoint() throws Exception {
    createSlot("keep_size_slot");
    SlotMonitor m = monitor("keep_size_slot", 1L << 30);
    assertThat(m.poll().state()).isEqualTo(SlotState.OK);
    try {
      sql("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'", "SELECT pg_reload_conf()");
      // Each switch closes a WAL segment: three segments are far beyond the 1 MB allowance.
      for (int i = 0; i < 3; i++) {
        sql("INSERT INTO filler (data) VALUES ('x')", "SELECT pg_switch_wal()");
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> m.poll().state() != SlotState.OK);
      assertThat(m.status().walStatus()).isIn("unreserved", "lost");

      sql("CHECKPOINT");

      await().atMost(Duration.ofSeconds(10)).until(() -> m.poll().state() == SlotState.LOST);
      assertThat(m.status().state().fatal()).isTrue();
      assertThat(m.status().message()).contains("invalidated").contains("wal_removed");
      assertThat(m.health().up()).isFalse();
    } finally {
      sql("ALTER SYSTEM RESET max_slot_wal_keep_size", "SELECT pg_reload_conf()");
    }
  }
}
