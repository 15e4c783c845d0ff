package dev.unpoll.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.UnpollConfig;
import io.debezium.engine.RecordChangeEvent;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

class BacklogSnapshotModeTest {

  static final UnpollConfig CONFIG =
      UnpollConfig.parse(
          """
          source:
            jdbc-url: jdbc:postgresql://db:5432/orders
            user: relay
            password: ${PW}
            slot: unpoll_orders
            publication: unpoll_orders
          kafka:
            bootstrap-servers: k:9092
          tables:
            - table: public.order_integration
              topic: orders.integration
              status: {column: status, pending: [NEW], done: [DONE]}
              backlog: true
          """,
          Map.of("PW", "secret"));
  static final List<TableName> BACKLOG = List.of(new TableName("public", "order_integration"));

  @Test
  void aFirstStartReadsTheBacklogInTheSnapshotOfTheSlotDebeziumCreates() {
    Properties p = DebeziumProperties.of(CONFIG, BACKLOG, false, false);
    assertThat(p.getProperty("snapshot.mode")).isEqualTo("initial");
    assertThat(p.getProperty("snapshot.include.collection.list"))
        .isEqualTo("public\\.order_integration");
  }

  @Test
  void aBacklogDueOnAnExistingSlotUsesTheSnapshotterThatKeepsTheStreamPosition() {
    Properties p = DebeziumProperties.of(CONFIG, BACKLOG, true, false);
    assertThat(p.getProperty("snapshot.mode")).isEqualTo("custom");
    assertThat(p.getProperty("snapshot.mode.custom.name")).isEqualTo(BacklogSnapshotter.NAME);
    BacklogSnapshotter s = new BacklogSnapshotter();
    assertThat(s.shouldSnapshotData(true, false)).isTrue();
    assertThat(s.shouldSnapshotData(true, true)).isTrue();
    assertThat(s.shouldStream()).isTrue();
    assertThat(s.shouldStreamEventsStartingFromSnapshot()).isFalse();
  }

  @Test
  void noBacklogDueStreamsWithoutData() {
    assertThat(DebeziumProperties.of(CONFIG, List.of(), true, false).getProperty("snapshot.mode"))
        .isEqualTo("no_data");
    assertThat(DebeziumProperties.of(CONFIG, List.of(), false, false).getProperty("snapshot.mode"))
        .isEqualTo("no_data");
  }

  @Test
  void onlyTheLastSnapshotRecordOrAStreamedChangeAfterTheSnapshotMarksItAcknowledged() {
    KafkaPublisher.SnapshotProgress p = new KafkaPublisher.SnapshotProgress();
    assertThat(p.done(List.of(snapshot(1L, false)))).isFalse();
    assertThat(p.done(List.of(snapshot(1L, false), snapshot(1L, true)))).isTrue();
    assertThat(p.done(List.of(streamed(3L)))).isTrue();

    KafkaPublisher.SnapshotProgress q = new KafkaPublisher.SnapshotProgress();
    assertThat(q.done(List.of(snapshot(1L, false)))).isFalse();
    assertThat(q.done(List.of(streamed(3L)))).isTrue();

    assertThat(
            new KafkaPublisher.SnapshotProgress()
                .done(
                    List.of(
                        event(
                            Map.of(
                                "lsn",
                                1L,
                                "snapshot",
                                "INITIAL",
                                "last_snapshot_record",
                                false,
                                "snapshot_completed",
                                true)))))
        .isTrue();
  }

  @Test
  void catchUpStreamedBeforeTheSnapshotDoesNotMarkItAcknowledged() {
    // unpoll_backlog on existing offsets: Debezium first streams from the stored offset (no
    // snapshot key), then snapshots; the catch-up batch must not record the backlog as done
    KafkaPublisher.SnapshotProgress p = new KafkaPublisher.SnapshotProgress();
    assertThat(p.done(List.of(streamed(10L), streamed(11L)))).isFalse();
    assertThat(p.done(List.of(streamed(12L)))).isFalse();
    assertThat(p.done(List.of(snapshot(13L, false), snapshot(13L, false)))).isFalse();
    assertThat(p.done(List.of(snapshot(13L, false), snapshot(13L, true)))).isTrue();

    KafkaPublisher.SnapshotProgress q = new KafkaPublisher.SnapshotProgress();
    assertThat(q.done(List.of(streamed(10L), snapshot(13L, false)))).isFalse();
    assertThat(q.done(List.of(snapshot(13L, false), streamed(14L)))).isTrue();

    KafkaPublisher.SnapshotProgress empty = new KafkaPublisher.SnapshotProgress();
    assertThat(empty.done(List.of(streamed(10L)))).isFalse();
    assertThat(empty.done(List.of(streamed(20L)))).isFalse();
  }

  /** A snapshot record's offset as Debezium 3.6's PostgresOffsetContext writes it. */
  private static RecordChangeEvent<SourceRecord> snapshot(long lsn, boolean last) {
    return event(
        Map.of(
            "lsn",
            lsn,
            "snapshot",
            "INITIAL",
            "last_snapshot_record",
            last,
            "snapshot_completed",
            last));
  }

  private static RecordChangeEvent<SourceRecord> streamed(long lsn) {
    return event(Map.of("lsn", lsn, "txId", 7L, "lsn_commit", lsn, "lsn_proc", lsn));
  }

  private static RecordChangeEvent<SourceRecord> event(Map<String, ?> offset) {
    SourceRecord r = new SourceRecord(Map.of("server", "unpoll_orders"), offset, "t", null, null);
    return () -> r;
  }
}
