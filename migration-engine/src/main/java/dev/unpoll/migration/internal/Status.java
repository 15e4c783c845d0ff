package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.Headers;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.StatusReport;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** What {@code unpoll status} reads: the slot, the tables' phases, their topics' last events. */
public final class Status {
  private Status() {}

  /** Reads the status; with {@code logTable}, also that table's transition log. */
  public static StatusReport read(Settings s, TableName logTable) {
    List<ControlSchema.State> states;
    Optional<Replication.Slot> sl;
    List<ControlSchema.LogEntry> log = List.of();
    try (Connection c = Db.connect(s)) {
      states = ControlSchema.all(c);
      sl = s.hasSlot() ? Replication.slot(c, s.slot()) : Optional.empty();
      if (logTable != null) {
        Db.requireTable(c, logTable);
        log = ControlSchema.log(c, logTable);
      }
    } catch (SQLException e) {
      throw Db.failure("cannot read unpoll.migration", e);
    }
    Map<String, Instant> lastEvent = new HashMap<>();
    boolean kafka = s.kafkaBootstrap() != null;
    if (kafka) {
      for (ControlSchema.State st : states) {
        String topic = st.mapping().path("topic").asText(null);
        if (topic != null && !lastEvent.containsKey(topic)) {
          lastEvent.put(topic, lastEventTime(s, topic));
        }
      }
    }
    StatusReport.SlotStatus slot =
        new StatusReport.SlotStatus(
            s.hasSlot() ? s.slot() : null,
            sl.isPresent(),
            sl.map(Replication.Slot::active).orElse(false),
            sl.map(Replication.Slot::retainedBytes).orElse(null),
            sl.map(Replication.Slot::lagBytes).orElse(null),
            sl.map(Replication.Slot::walStatus).orElse(null));
    List<StatusReport.TableStatus> tables = new ArrayList<>();
    for (ControlSchema.State st : states) {
      String topic = st.mapping().path("topic").asText(null);
      tables.add(
          new StatusReport.TableStatus(
              st.table(),
              st.phase(),
              st.updatedAt(),
              topic,
              topic == null ? null : lastEvent.get(topic)));
    }
    Optional<List<StatusReport.LogEntry>> entries = Optional.empty();
    if (logTable != null) {
      List<StatusReport.LogEntry> list = new ArrayList<>();
      for (ControlSchema.LogEntry e : log) {
        List<String> failed = new ArrayList<>();
        for (JsonNode g : e.gateResults()) {
          if (!g.path("passed").asBoolean(true)) {
            failed.add(g.path("name").asText());
          }
        }
        list.add(
            new StatusReport.LogEntry(
                e.table(),
                e.from(),
                e.to(),
                e.at(),
                e.actor(),
                e.reason(),
                failed,
                e.gateResults().toString()));
      }
      entries = Optional.of(list);
    }
    return new StatusReport(slot, tables, kafka, entries);
  }

  /** The largest ce_time among the last record of each partition. */
  static Instant lastEventTime(Settings s, String topic) {
    List<TopicPartition> parts;
    try {
      parts = Kafka.partitions(s, topic);
    } catch (MigrationException e) {
      if (e.getMessage().contains("does not exist")) {
        return null;
      }
      throw e;
    }
    Instant best = null;
    try (KafkaConsumer<byte[], byte[]> consumer = Kafka.consumer(s)) {
      consumer.assign(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, Kafka.TIMEOUT);
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts, Kafka.TIMEOUT);
      int wanted = 0;
      for (TopicPartition tp : parts) {
        if (end.get(tp) > begin.get(tp)) {
          consumer.seek(tp, end.get(tp) - 1);
          wanted++;
        } else {
          consumer.pause(List.of(tp));
        }
      }
      long deadline = System.nanoTime() + Kafka.TIMEOUT.toNanos();
      int seen = 0;
      while (seen < wanted && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          seen++;
          Instant t = time(r);
          if (t != null && (best == null || t.isAfter(best))) {
            best = t;
          }
          consumer.pause(List.of(new TopicPartition(r.topic(), r.partition())));
        }
      }
    }
    return best;
  }

  private static Instant time(ConsumerRecord<byte[], byte[]> r) {
    String ce = Kafka.header(r, Headers.TIME);
    if (ce != null) {
      try {
        return Instant.parse(ce);
      } catch (DateTimeParseException ignored) {
        // fall back to the record timestamp
      }
    }
    return Instant.ofEpochMilli(r.timestamp());
  }
}
