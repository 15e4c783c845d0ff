package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.Headers;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.Topics;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * What {@code unpoll status} reads: the slot, the tables' phases, their topics' last events, end
 * offsets and rates, their consumer groups' lag and their dead letters.
 */
public final class Status {
  private Status() {}

  /** Reads the status; with {@code logTable}, also that table's transition log. */
  public static StatusReport read(Settings s, TableName logTable) {
    return read(s, logTable, null);
  }

  /**
   * Reads the status; with {@code logTable}, also that table's transition log; with {@code
   * previous} (may be null), the events per second since that sample.
   */
  public static StatusReport read(Settings s, TableName logTable, StatusReport previous) {
    List<ControlSchema.State> states;
    Optional<Replication.Slot> sl;
    List<ControlSchema.LogEntry> log = List.of();
    String problem = null;
    try (Connection c = Db.connect(s)) {
      states = ControlSchema.all(c);
      sl = s.hasSlot() ? Replication.slot(c, s.slot()) : Optional.empty();
      if (s.hasSlot() && sl.isEmpty()) {
        // "no slot" is a question: the relay may have offsets pointing into a dropped one
        List<TableName> offsets = Replication.relayOffsetTables(c, s.slot());
        if (!offsets.isEmpty()) {
          problem =
              "dropped, but the relay's offsets "
                  + offsets.get(0).dotted()
                  + " point into it: changes since its last offset are lost to it and the relay"
                  + " refuses to start; run unpoll doctor";
        }
      } else if (sl.isPresent() && "lost".equals(sl.get().walStatus())) {
        problem =
            "invalidated: the WAL it needed is gone (max_slot_wal_keep_size) and the relay refuses"
                + " to start; run unpoll doctor";
      }
      if (logTable != null) {
        Db.requireTable(c, logTable);
        log = ControlSchema.log(c, logTable);
      }
    } catch (SQLException e) {
      throw Db.failure("cannot read unpoll.migration", e);
    }
    Map<String, Instant> lastEvent = new HashMap<>();
    boolean kafka = s.kafkaBootstrap() != null;
    Instant takenAt = Instant.now();
    Offsets offsets = Offsets.NONE;
    if (kafka) {
      Set<String> topics = new TreeSet<>();
      Set<String> groups = new TreeSet<>();
      for (ControlSchema.State st : states) {
        String topic = st.mapping().path("topic").asText(null);
        if (topic != null) {
          topics.add(topic);
          topics.add(Topics.deadLetterTopic(topic));
          String group = st.mapping().path(MappingResolver.CONSUMER_GROUP_KEY).asText(null);
          if (group != null) {
            groups.add(group);
          }
        }
      }
      takenAt = Instant.now();
      offsets = offsets(s, topics, groups);
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
            sl.map(Replication.Slot::walStatus).orElse(null),
            problem);
    List<StatusReport.TableStatus> tables = new ArrayList<>();
    Map<String, Long> previousEnd = new HashMap<>();
    if (previous != null) {
      for (StatusReport.TableStatus t : previous.tables()) {
        if (t.topic() != null && t.endOffset() != null) {
          previousEnd.put(t.topic(), t.endOffset());
        }
      }
    }
    for (ControlSchema.State st : states) {
      String topic = st.mapping().path("topic").asText(null);
      String group = st.mapping().path(MappingResolver.CONSUMER_GROUP_KEY).asText(null);
      Long end = topic == null ? null : offsets.end(topic);
      Double rate = null;
      if (end != null && previousEnd.containsKey(topic)) {
        double seconds = Duration.between(previous.takenAt(), takenAt).toNanos() / 1e9;
        long delta = end - previousEnd.get(topic);
        rate = seconds > 0 && delta >= 0 ? delta / seconds : null;
      }
      List<StatusReport.GroupLag> lags = new ArrayList<>();
      if (topic != null && group != null && kafka && end != null) {
        lags.add(offsets.lag(topic, group));
      }
      String dlt = topic == null ? null : Topics.deadLetterTopic(topic);
      tables.add(
          new StatusReport.TableStatus(
              st.table(),
              st.phase(),
              st.updatedAt(),
              topic,
              topic == null ? null : lastEvent.get(topic),
              end,
              rate,
              lags,
              dlt,
              dlt == null ? null : offsets.retained(dlt)));
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
    return new StatusReport(takenAt, slot, tables, kafka, entries);
  }

  /** One sample of the topics' start and end offsets and of the groups' committed offsets. */
  private record Offsets(
      Map<String, List<TopicPartition>> partitions,
      Map<TopicPartition, Long> begin,
      Map<TopicPartition, Long> end,
      Map<String, Map<TopicPartition, OffsetAndMetadata>> committed,
      Map<String, ConsumerGroupDescription> groups) {
    static final Offsets NONE = new Offsets(Map.of(), Map.of(), Map.of(), Map.of(), Map.of());

    /** The sum of the topic's end offsets, or null when it does not exist. */
    Long end(String topic) {
      List<TopicPartition> parts = partitions.get(topic);
      return parts == null ? null : parts.stream().mapToLong(end::get).sum();
    }

    /** The records the topic retains (end minus start offsets), or null when it does not exist. */
    Long retained(String topic) {
      List<TopicPartition> parts = partitions.get(topic);
      return parts == null
          ? null
          : parts.stream().mapToLong(tp -> Math.max(0, end.get(tp) - begin.get(tp))).sum();
    }

    StatusReport.GroupLag lag(String topic, String group) {
      Map<TopicPartition, OffsetAndMetadata> c = committed.getOrDefault(group, Map.of());
      long lag = 0;
      int uncommitted = 0;
      for (TopicPartition tp : partitions.get(topic)) {
        OffsetAndMetadata o = c.get(tp);
        long from = o == null ? begin.get(tp) : Math.max(o.offset(), begin.get(tp));
        if (o == null) {
          uncommitted++;
        }
        lag += Math.max(0, end.get(tp) - from);
      }
      ConsumerGroupDescription d = groups.get(group);
      return new StatusReport.GroupLag(
          group,
          lag,
          uncommitted,
          d == null ? 0 : d.members().size(),
          d == null ? "Dead" : d.groupState().toString());
    }
  }

  /** Reads the existing topics' offsets and the groups' committed offsets, with one client each. */
  private static Offsets offsets(Settings s, Set<String> topics, Set<String> groups) {
    if (topics.isEmpty()) {
      return Offsets.NONE;
    }
    Map<String, List<TopicPartition>> partitions = new HashMap<>();
    Map<String, Map<TopicPartition, OffsetAndMetadata>> committed = new HashMap<>();
    Map<String, ConsumerGroupDescription> described = new HashMap<>();
    try (Admin admin = Admin.create(Kafka.base(s))) {
      Map<String, KafkaFuture<TopicDescription>> found =
          admin.describeTopics(topics).topicNameValues();
      for (Map.Entry<String, KafkaFuture<TopicDescription>> e : found.entrySet()) {
        try {
          List<TopicPartition> list = new ArrayList<>();
          e.getValue()
              .get(Kafka.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .partitions()
              .forEach(p -> list.add(new TopicPartition(e.getKey(), p.partition())));
          partitions.put(e.getKey(), list);
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof UnknownTopicOrPartitionException)) {
            throw Kafka.unreachable(s, ex.getCause() == null ? ex : ex.getCause());
          }
        }
      }
      for (String group : groups) {
        try {
          committed.put(
              group,
              admin
                  .listConsumerGroupOffsets(group)
                  .partitionsToOffsetAndMetadata()
                  .get(Kafka.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof GroupIdNotFoundException)) {
            throw Kafka.unreachable(s, ex.getCause() == null ? ex : ex.getCause());
          }
        }
        try {
          described.put(
              group,
              admin
                  .describeConsumerGroups(List.of(group))
                  .describedGroups()
                  .get(group)
                  .get(Kafka.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof GroupIdNotFoundException)) {
            throw Kafka.unreachable(s, ex.getCause() == null ? ex : ex.getCause());
          }
        }
      }
    } catch (TimeoutException | org.apache.kafka.common.KafkaException e) {
      throw Kafka.unreachable(s, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MigrationException("interrupted while reading the topics' offsets", e);
    }
    List<TopicPartition> all = new ArrayList<>();
    partitions.values().forEach(all::addAll);
    if (all.isEmpty()) {
      return new Offsets(partitions, Map.of(), Map.of(), committed, described);
    }
    try (KafkaConsumer<byte[], byte[]> consumer = Kafka.consumer(s)) {
      Map<TopicPartition, Long> end = consumer.endOffsets(all, Kafka.TIMEOUT);
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(all, Kafka.TIMEOUT);
      return new Offsets(partitions, begin, end, committed, described);
    } catch (org.apache.kafka.common.errors.InterruptException e) {
      throw new MigrationException("interrupted while reading the topics' offsets", e);
    } catch (org.apache.kafka.common.KafkaException e) {
      throw Kafka.unreachable(s, e);
    }
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
