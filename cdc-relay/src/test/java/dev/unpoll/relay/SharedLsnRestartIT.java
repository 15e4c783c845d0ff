package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Issue 10, defect 5: a COPY packs its rows into multi-insert WAL records, one per heap page, whose
 * rows share one LSN; stopping the relay among them and restarting must lose none. Debezium 3.6
 * resumes after a stored LSN and skips the rest of its record (debezium/dbz#1554); the relay stores
 * no offset inside such a record (KafkaPublisher.SameLsnTail).
 */
@ExtendWith(UnpollStackExtension.class)
class SharedLsnRestartIT {

  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_shared_lsn_it");
    sql(db, "create table copy_r (id int primary key, note text)");
  }

  /**
   * Deterministic: the relay stops right after a batch whose last row is not the last row of its
   * WAL record (a COPY writes one multi-insert record per heap page, its rows share that record's
   * LSN, and Debezium 3.6 resumes after the stored LSN, skipping the rest of that record). The
   * database's own decoder ({@code test_decoding} on a probe slot) tells how many rows each LSN
   * holds, so the stop is chosen, not timed.
   */
  @Test
  void aStopAfterABatchThatEndsInsideOneWalRecordLosesNoRow(TestKafka kafka) throws Exception {
    int rows = 5_000;
    String topic = kafka.createUniqueTopic("copy-r", 3);
    UnpollConfig config =
        RelayFixtures.config(
            db,
            RelayFixtures.baseYaml(db, kafka, "shared_lsn_stop")
                + """
                tables:
                  - table: copy_r
                    topic: %s
                """
                    .formatted(topic));
    Map<Long, Integer> rowsPerLsn = new ConcurrentHashMap<>();
    CountDownLatch lsnsKnown = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Map<Long, Integer> seen = new HashMap<>();
    AtomicReference<String> stopPoint = new AtomicReference<>();
    Relay relay =
        Relay.builder()
            .config(config)
            .afterBatch(
                batch -> {
                  try {
                    lsnsKnown.await();
                    for (SourceRecord r : batch) {
                      if (r.topic().endsWith(".copy_r")) {
                        seen.merge(lsn(r), 1, Integer::sum);
                      }
                    }
                    SourceRecord last = batch.get(batch.size() - 1);
                    if (last.topic().endsWith(".copy_r")
                        && seen.get(lsn(last)) < rowsPerLsn.getOrDefault(lsn(last), 0)) {
                      stopPoint.set(
                          "id "
                              + ((Struct) last.key()).get("id")
                              + ", row "
                              + seen.get(lsn(last))
                              + " of "
                              + rowsPerLsn.get(lsn(last))
                              + " at LSN "
                              + lsn(last));
                      stopped.countDown();
                      // no further batch: the relay is closed while this one is the last
                      new CountDownLatch(1).await();
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                })
            .build();
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      try {
        relay.start();
        await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
        sql(db, "select pg_create_logical_replication_slot('shared_lsn_probe', 'test_decoding')");
        RelayFixtures.copy(db, "copy_r", 1, rows);
        try (Connection c = db.connect();
            ResultSet rs =
                c.createStatement()
                    .executeQuery(
                        "select lsn - '0/0'::pg_lsn, count(*) from"
                            + " pg_logical_slot_peek_changes('shared_lsn_probe', null, null)"
                            + " where data like 'table public.copy_r: INSERT:%' group by 1")) {
          while (rs.next()) {
            rowsPerLsn.put(rs.getLong(1), rs.getInt(2));
          }
        }
        sql(db, "select pg_drop_replication_slot('shared_lsn_probe')");
        assertThat(rowsPerLsn.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(rows);
        assertThat(rowsPerLsn.values()).as("rows sharing one LSN").anyMatch(n -> n > 1);
        lsnsKnown.countDown();
        assertThat(stopped.await(60, TimeUnit.SECONDS))
            .as("a batch ended inside a multi-insert record")
            .isTrue();
      } finally {
        relay.close();
      }
      LoggerFactory.getLogger(SharedLsnRestartIT.class)
          .info(
              "stopped after {}; stored offset {}",
              stopPoint.get(),
              storedOffset("shared_lsn_stop"));
      // a row committed after the COPY: once it is on the topic, the restart has passed the COPY
      sql(db, "insert into copy_r values (0, 'after the copy')");
      Relay again = Relay.builder().config(config).build();
      try {
        again.start();
        await().atMost(Duration.ofSeconds(120)).until(() -> keys(reader.poll()).contains("0"));
      } finally {
        again.close();
      }
      Set<String> published = keys(reader.settle(Duration.ofMillis(500)));
      List<Integer> missing = new ArrayList<>();
      for (int i = 0; i <= rows; i++) {
        if (!published.contains(Integer.toString(i))) {
          missing.add(i);
        }
      }
      assertThat(missing).as("ids never published (stopped after %s)", stopPoint.get()).isEmpty();
    }
  }

  private static long lsn(SourceRecord r) {
    return ((Number) r.sourceOffset().get("lsn")).longValue();
  }

  private static Set<String> keys(List<ConsumerRecord<byte[], byte[]>> records) {
    return new HashSet<>(records.stream().map(RelayFixtures::key).toList());
  }

  private static String storedOffset(String slot) throws Exception {
    try (Connection c = db.connect();
        var rs =
            c.createStatement()
                .executeQuery(
                    "select offset_val from unpoll_relay_offsets_"
                        + slot
                        + " order by record_insert_seq desc limit 1")) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
