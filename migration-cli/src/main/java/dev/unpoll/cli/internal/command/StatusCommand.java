package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.Headers;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.internal.ControlSchema;
import dev.unpoll.migration.internal.Db;
import dev.unpoll.migration.internal.Kafka;
import dev.unpoll.migration.internal.Names;
import dev.unpoll.migration.internal.Replication;
import dev.unpoll.migration.internal.Settings;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll status}: every table's phase, the slot's retained WAL and lag, last events. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Every migrated table's phase and when it changed, the relay slot's retained WAL and lag,"
          + " and the time of the last event in each table's topic (when --kafka is given)."
    })
public final class StatusCommand extends BaseCommand {
  @Option(
      names = "--slot",
      paramLabel = "<name>",
      description = "The relay's slot (default: source.slot in --config).")
  String slot;

  @Option(
      names = "--table",
      paramLabel = "<schema.table>",
      description = "Also show this table's transition log (unpoll.migration_log).")
  String table;

  @Override
  public Integer call() {
    Settings s = Settings.resolve(common.given(), slot, null, env());
    List<ControlSchema.State> states;
    Optional<Replication.Slot> sl;
    TableName logTable = table == null ? null : Names.table(table);
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
    if (common.json) {
      ObjectNode n = JSON.createObjectNode();
      ObjectNode sn = n.putObject("slot");
      sn.put("name", s.hasSlot() ? s.slot() : null);
      sn.put("exists", sl.isPresent());
      sn.put("active", sl.map(Replication.Slot::active).orElse(false));
      sn.put("retainedWalBytes", sl.map(Replication.Slot::retainedBytes).orElse(null));
      sn.put("lagBytes", sl.map(Replication.Slot::lagBytes).orElse(null));
      sn.put("walStatus", sl.map(Replication.Slot::walStatus).orElse(null));
      ArrayNode tables = n.putArray("tables");
      for (ControlSchema.State st : states) {
        ObjectNode tn = tables.addObject();
        tn.put("table", st.table());
        tn.put("phase", st.phase().id());
        tn.put("since", st.updatedAt().toString());
        String topic = st.mapping().path("topic").asText(null);
        tn.put("topic", topic);
        Instant last = topic == null ? null : lastEvent.get(topic);
        tn.put("lastEventTime", last == null ? null : last.toString());
      }
      if (logTable != null) {
        ArrayNode ln = n.putArray("log");
        for (ControlSchema.LogEntry e : log) {
          ObjectNode en = ln.addObject();
          en.put("table", e.table());
          en.put("from", e.from() == null ? null : e.from().id());
          en.put("to", e.to().id());
          en.put("at", e.at().toString());
          en.put("actor", e.actor());
          en.put("reason", e.reason());
          en.set("gates", e.gateResults());
        }
      }
      printJson(n);
    } else {
      line(
          sl.map(
                  x ->
                      "slot "
                          + x.name()
                          + ": "
                          + (x.active() ? "active" : "INACTIVE")
                          + ", retains "
                          + Replication.bytes(x.retainedBytes())
                          + ", lag "
                          + Replication.bytes(x.lagBytes()))
              .orElse(
                  s.hasSlot()
                      ? "slot " + s.slot() + ": does not exist"
                      : "slot: none named (pass --slot or --config unpoll.yaml with source.slot)"));
      if (states.isEmpty()) {
        line("no table is being migrated (run `unpoll capture --table ...`)");
      }
      for (ControlSchema.State st : states) {
        String topic = st.mapping().path("topic").asText(null);
        Instant last = topic == null ? null : lastEvent.get(topic);
        line(
            String.format(
                Locale.ROOT,
                "%-40s %-10s since %s  topic %s  last event %s",
                st.table(),
                st.phase().id(),
                st.updatedAt(),
                topic,
                !kafka
                    ? "(no --kafka)"
                    : last == null ? "none" : last + " (" + ago(last) + " ago)"));
      }
    }
    if (logTable != null && !common.json) {
      line("log of " + logTable.display() + ":");
      if (log.isEmpty()) {
        line("  (no transitions)");
      }
      for (ControlSchema.LogEntry e : log) {
        List<String> failed = new java.util.ArrayList<>();
        e.gateResults()
            .forEach(
                g -> {
                  if (!g.path("passed").asBoolean(true)) {
                    failed.add(g.path("name").asText());
                  }
                });
        line(
            "  "
                + e.at()
                + "  "
                + (e.from() == null ? "-" : e.from().id())
                + " → "
                + e.to().id()
                + "  by "
                + e.actor()
                + (failed.isEmpty() ? "" : "  FORCED past " + failed)
                + (e.reason() == null ? "" : "  reason: " + e.reason()));
      }
    }
    return ExitCode.OK.code();
  }

  private static String ago(Instant t) {
    Duration d = Duration.between(t, Instant.now());
    return d.isNegative() ? "0s" : dev.unpoll.migration.internal.Durations.format(d.withNanos(0));
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
