package dev.unpoll.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.relay.RelayConfig;
import dev.unpoll.relay.TableName;
import io.debezium.engine.RecordChangeEvent;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

class BacklogSnapshotModeTest {

  static final RelayConfig CONFIG =
      RelayConfig.parse(
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
    Properties p = DebeziumProperties.of(CONFIG, BACKLOG, false);
    assertThat(p.getProperty("snapshot.mode")).isEqualTo("initial");
    assertThat(p.getProperty("snapshot.include.collection.list"))
        .isEqualTo("public\\.order_integration");
  }

  @Test
  void aBacklogDueOnAnExistingSlotUsesTheSnapshotterThatKeepsTheStreamPosition() {
    Properties p = DebeziumProperties.of(CONFIG, BACKLOG, true);
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
    assertThat(DebeziumProperties.of(CONFIG, List.of(), true).getProperty("snapshot.mode"))
        .isEqualTo("no_data");
    assertThat(DebeziumProperties.of(CONFIG, List.of(), false).getProperty("snapshot.mode"))
        .isEqualTo("no_data");
  }

  @Test
  void onlyARecordReadAfterTheSnapshotMarksItAcknowledged() {
    assertThat(
            KafkaPublisher.pastSnapshot(List.of(event(Map.of("lsn", 1L, "snapshot", "INITIAL")))))
        .isFalse();
    assertThat(
            KafkaPublisher.pastSnapshot(
                List.of(
                    event(
                        Map.of(
                            "lsn",
                            1L,
                            "snapshot",
                            "INITIAL",
                            "last_snapshot_record",
                            true,
                            "snapshot_completed",
                            false)))))
        .isFalse();
    assertThat(
            KafkaPublisher.pastSnapshot(
                List.of(
                    event(Map.of("lsn", 1L, "snapshot", "INITIAL")),
                    event(Map.of("lsn", 2L, "snapshot", "INITIAL", "snapshot_completed", true)))))
        .isTrue();
    assertThat(KafkaPublisher.pastSnapshot(List.of(event(Map.of("lsn", 3L, "txId", 7L))))).isTrue();
  }

  private static RecordChangeEvent<SourceRecord> event(Map<String, ?> offset) {
    SourceRecord r = new SourceRecord(Map.of("server", "unpoll_orders"), offset, "t", null, null);
    return () -> r;
  }
}
