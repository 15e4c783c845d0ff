package dev.unpoll.faults;

import dev.unpoll.contract.Headers;
import dev.unpoll.faults.Ledger.Entry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Compares what the writers committed ({@link Ledger}) with what reached the topics and what the
 * consumer applied ({@code fi.effects}), and reports the invariants: every committed row or event
 * is in its topic and applied exactly once; nothing of a rolled-back transaction appears; per key,
 * effects never go backwards. Duplicates in the topics are counted, not refused: at-least-once
 * allows them, and the idempotency key must keep their effect single.
 */
final class Checker {
  /**
   * The result of one check.
   *
   * @param committed ledger entries committed
   * @param rolledBack ledger entries rolled back
   * @param unknown ledger entries whose commit outcome was lost
   * @param records records read from the topics
   * @param duplicates records beyond the first of their id
   * @param missing committed entries not in the topics (first few)
   * @param missingCount how many
   * @param phantoms rolled-back entries that reached a topic
   * @param effectsMissing committed entries never applied
   * @param effectsTwice ids applied more than once (first few)
   * @param effectsTwiceCount applications beyond the first of one id
   * @param maxTopicDuplicates the most duplicates published after one injection (see {@link
   *     #check(Ledger, List)})
   * @param effectsOfRolledBack rolled-back entries applied
   * @param orderViolations keys whose effects went backwards, with their sequence
   */
  record Report(
      long committed,
      long rolledBack,
      long unknown,
      long records,
      long duplicates,
      List<String> missing,
      long missingCount,
      List<String> phantoms,
      long effectsMissing,
      List<String> effectsTwice,
      long effectsTwiceCount,
      List<String> effectsOfRolledBack,
      List<String> orderViolations,
      long maxTopicDuplicates) {
    boolean ok() {
      return missingCount == 0
          && phantoms.isEmpty()
          && effectsMissing == 0
          && effectsTwiceCount == 0
          && effectsOfRolledBack.isEmpty()
          && orderViolations.isEmpty();
    }

    String summary() {
      return String.format(
          "committed %d, rolled back %d, unknown %d; records %d (duplicates %d, at most %d after"
              + " one injection); missing %d %s; phantoms %s; effects missing %d, twice %d %s, of"
              + " rolled back %s; order violations %s",
          committed,
          rolledBack,
          unknown,
          records,
          duplicates,
          maxTopicDuplicates,
          missingCount,
          missing,
          phantoms,
          effectsMissing,
          effectsTwiceCount,
          effectsTwice,
          effectsOfRolledBack,
          orderViolations);
    }
  }

  /** Marks a record a test produced straight into a topic (a poison record). */
  static final String POISON_HEADER = "fi_poison";

  private final String bootstrapServers;
  private final String legacyTopic;
  private final String outboxTopic;
  private final DataSource dataSource;

  Checker(String bootstrapServers, String legacyTopic, String outboxTopic, DataSource dataSource) {
    this.bootstrapServers = bootstrapServers;
    this.legacyTopic = legacyTopic;
    this.outboxTopic = outboxTopic;
    this.dataSource = dataSource;
  }

  /** Effects applied so far (cheap; to wait on before a full check). */
  long effects() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(DISTINCT event_id) FROM fi.effects")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Where the legacy table's record of row {@code id} is ({@code topic-partition@offset}, as the
   * consumer logs it), or null when it is not in the topic yet.
   */
  String coordinatesOf(long id) {
    String[] found = new String[1];
    scan(
        r -> {
          if (found[0] == null
              && r.topic().equals(legacyTopic)
              && header(r, Headers.ID).equals("fi.jobs:" + id)) {
            found[0] = r.topic() + "-" + r.partition() + "@" + r.offset();
          }
        });
    return found[0];
  }

  /** The ids of every record in the topics now (to compare with the slot's position). */
  Set<String> idsInTopics() {
    Map<String, Integer> seen = new HashMap<>();
    readTopics(seen, new HashMap<>());
    return seen.keySet();
  }

  Report check(Ledger ledger) throws SQLException {
    return check(ledger, List.of());
  }

  /**
   * Checks the invariants. {@code marks} are the topics' end offsets at each injection, in order: a
   * duplicate record (a second record of one id) at or after a mark and before the next one counts
   * towards that injection's window.
   */
  Report check(Ledger ledger, List<Map<TopicPartition, Long>> marks) throws SQLException {
    Map<String, Integer> seen = new HashMap<>();
    Map<TopicPartition, List<Long>> duplicateOffsets = new HashMap<>();
    long records = readTopics(seen, duplicateOffsets);
    long[] perInjection = new long[marks.size() + 1];
    duplicateOffsets.forEach(
        (tp, offsets) -> {
          for (long offset : offsets) {
            int window = 0; // before the first injection
            for (int i = 0; i < marks.size(); i++) {
              if (offset >= marks.get(i).getOrDefault(tp, 0L)) {
                window = i + 1;
              }
            }
            perInjection[window]++;
          }
        });
    long maxTopicDuplicates = java.util.Arrays.stream(perInjection).max().orElse(0);
    Map<String, Integer> applied = new HashMap<>();
    Map<String, List<Long>> seqsByKey = new TreeMap<>();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT event_id, kind, k, seq FROM fi.effects ORDER BY n")) {
      while (rs.next()) {
        String id = idOf(rs.getString(2), rs.getString(1));
        applied.merge(id, 1, Integer::sum);
        if ("outbox".equals(rs.getString(2))) {
          seqsByKey.computeIfAbsent(rs.getString(3), k -> new ArrayList<>()).add(rs.getLong(4));
        }
      }
    }
    long committed = 0;
    long rolledBack = 0;
    long unknown = 0;
    List<String> missing = new ArrayList<>();
    long missingCount = 0;
    List<String> phantoms = new ArrayList<>();
    long effectsMissing = 0;
    List<String> effectsOfRolledBack = new ArrayList<>();
    for (Entry e : ledger.all()) {
      String id = e.kind() + ":" + e.id();
      switch (e.outcome()) {
        case COMMITTED -> {
          committed++;
          if (!seen.containsKey(id)) {
            missingCount++;
            if (missing.size() < 10) {
              missing.add(id);
            }
          }
          if (!applied.containsKey(id)) {
            effectsMissing++;
          }
        }
        case ROLLED_BACK -> {
          rolledBack++;
          if (seen.containsKey(id)) {
            phantoms.add(id);
          }
          if (applied.containsKey(id)) {
            effectsOfRolledBack.add(id);
          }
        }
        case UNKNOWN -> unknown++;
      }
    }
    List<String> twice = new ArrayList<>();
    long twiceCount = 0;
    for (Map.Entry<String, Integer> a : applied.entrySet()) {
      if (a.getValue() > 1) {
        twiceCount += a.getValue() - 1;
        if (twice.size() < 10) {
          twice.add(a.getKey() + " x" + a.getValue());
        }
      }
    }
    List<String> backwards = new ArrayList<>();
    seqsByKey.forEach(
        (k, seqs) -> {
          for (int i = 1; i < seqs.size(); i++) {
            if (seqs.get(i) <= seqs.get(i - 1)) {
              backwards.add(k + " " + seqs.get(i - 1) + "->" + seqs.get(i));
              break;
            }
          }
        });
    long duplicates = records - seen.size();
    return new Report(
        committed,
        rolledBack,
        unknown,
        records,
        duplicates,
        missing,
        missingCount,
        phantoms,
        effectsMissing,
        twice,
        twiceCount,
        effectsOfRolledBack,
        backwards,
        maxTopicDuplicates);
  }

  private static String idOf(String kind, String ceId) {
    return "legacy".equals(kind)
        ? "legacy:" + ceId.substring("fi.jobs:".length())
        : "outbox:" + ceId;
  }

  /** Reads both topics to their current ends; counts records per id and notes duplicates. */
  private long readTopics(
      Map<String, Integer> seen, Map<TopicPartition, List<Long>> duplicateOffsets) {
    long[] records = new long[1];
    scan(
        r -> {
          records[0]++;
          String kind = r.topic().equals(legacyTopic) ? "legacy" : "outbox";
          if (seen.merge(idOf(kind, header(r, Headers.ID)), 1, Integer::sum) > 1) {
            duplicateOffsets
                .computeIfAbsent(
                    new TopicPartition(r.topic(), r.partition()), k -> new ArrayList<>())
                .add(r.offset());
          }
        });
    return records[0];
  }

  /** Reads both topics from the beginning to their current ends, but the test's poison records. */
  private void scan(java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "fault-checker-" + UUID.randomUUID());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : List.of(legacyTopic, outboxTopic)) {
        for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
          partitions.add(new TopicPartition(topic, info.partition()));
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Set<TopicPartition> open = new HashSet<>(partitions);
      open.removeIf(tp -> end.get(tp) == 0);
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (!open.isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read the topics to their ends: " + open);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.headers().lastHeader(POISON_HEADER) != null) {
            continue; // produced by the test, not by the relay: not in the ledger
          }
          each.accept(r);
        }
        open.removeIf(tp -> consumer.position(tp) >= end.get(tp));
      }
    }
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    if (h == null) {
      throw new IllegalStateException(
          r.topic() + "/" + r.partition() + "@" + r.offset() + ": no " + name);
    }
    return new String(h.value(), StandardCharsets.UTF_8);
  }
}
