package dev.unpoll.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.debezium.engine.RecordChangeEvent;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

/** Which acknowledged records the relay may store the offset at (issue 10, defect 5). */
class SameLsnTailTest {

  @Test
  void insertsSharingTheLastLsnAreHeldUntilARecordWithAnotherPositionArrives() {
    List<RecordChangeEvent<SourceRecord>> batch =
        List.of(insert(100), insert(200), insert(200), insert(200));
    assertThat(KafkaPublisher.SameLsnTail.start(batch)).isEqualTo(1);
  }

  @Test
  void aBatchOfOneSharedLsnHoldsEverything() {
    assertThat(KafkaPublisher.SameLsnTail.start(List.of(insert(300), insert(300)))).isZero();
  }

  @Test
  void aPrimaryKeyChangeIsADeleteAndAnInsertAtOneLsnAndIsHeldLikeACopy() {
    // Debezium emits both halves with the update's offset (messageType UPDATE)
    assertThat(KafkaPublisher.SameLsnTail.start(List.of(insert(100), update(300)))).isEqualTo(1);
    assertThat(KafkaPublisher.SameLsnTail.start(List.of(update(300), update(300), insert(400))))
        .isEqualTo(2);
  }

  @Test
  void aLastRecordThatNoLaterChangeCanShareReleasesTheWholeBatch() {
    assertThat(KafkaPublisher.SameLsnTail.start(List.of(insert(100), insert(100), commit(400))))
        .isEqualTo(3);
    assertThat(KafkaPublisher.SameLsnTail.start(List.of(insert(100), snapshot(500)))).isEqualTo(2);
    assertThat(KafkaPublisher.SameLsnTail.start(List.of())).isZero();
  }

  @Test
  void theResumePositionIsTheCompletelyProcessedLsnWhenDebeziumWritesOne() {
    Map<String, Object> offset = offset("INSERT", 200);
    offset.put("lsn_proc", 150L);
    assertThat(
            dev.unpoll.mapping.SameLsnTail.sharedLsn(
                new SourceRecord(null, offset, "t", null, null)))
        .isEqualTo(150L);
    offset.remove("lsn_proc");
    assertThat(
            dev.unpoll.mapping.SameLsnTail.sharedLsn(
                new SourceRecord(null, offset, "t", null, null)))
        .isEqualTo(200L);
  }

  private static RecordChangeEvent<SourceRecord> insert(long lsn) {
    return event(offset("INSERT", lsn));
  }

  private static RecordChangeEvent<SourceRecord> update(long lsn) {
    return event(offset("UPDATE", lsn));
  }

  /** A heartbeat after a transaction's commit carries the commit's position. */
  private static RecordChangeEvent<SourceRecord> commit(long lsn) {
    return event(offset("COMMIT", lsn));
  }

  /** A heartbeat before the relay processed any change carries no message type. */
  private static RecordChangeEvent<SourceRecord> beforeAnyChange(long lsn) {
    return event(Map.of("lsn", lsn, "lsn_proc", lsn));
  }

  private static RecordChangeEvent<SourceRecord> snapshot(long lsn) {
    Map<String, Object> o = new HashMap<>(Map.of("lsn", lsn, "snapshot", "INITIAL"));
    o.put("last_snapshot_record", false);
    return event(o);
  }

  /** A streamed change's offset as Debezium 3.6's PostgresOffsetContext writes it. */
  private static Map<String, Object> offset(String type, long lsn) {
    return new HashMap<>(
        Map.of("lsn", lsn, "lsn_proc", lsn, "lsn_commit", 90L, "txId", 7L, "messageType", type));
  }

  private static RecordChangeEvent<SourceRecord> event(Map<String, ?> offset) {
    SourceRecord r = new SourceRecord(Map.of("server", "unpoll_orders"), offset, "t", null, null);
    return () -> r;
  }
}
