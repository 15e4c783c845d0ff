package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.migration.StatusReport;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code unpoll status} with Kafka: each table's events, rate, consumer lag and dead letters, and
 * {@code --watch}, against the real servers.
 */
@ExtendWith(UnpollStackExtension.class)
class StatusWatchIT {
  static final String GROUP = "watchers";
  static TestPostgres db;
  static TestKafka kafka;

  @TempDir Path dir;

  @BeforeAll
  static void database(TestPostgres server, TestKafka k) {
    db = server.createDatabase("cli_status_watch_it");
    kafka = k;
  }

  /** A captured table in shadow with {@link #GROUP} recorded, mapped to a new 2-partition topic. */
  private Path shadowed(String table, String topic) throws Exception {
    Fixtures.integrationTable(db, table);
    Path file = dir.resolve("unpoll.yaml");
    Files.writeString(
        file,
        "source:\n  jdbc-url: "
            + db.jdbcUrl()
            + "\n  user: "
            + db.user()
            + "\n  password: ${DB_PASSWORD}\n  slot: slot_"
            + table
            + "\n  publication: pub_"
            + table
            + "\nkafka:\n  bootstrap-servers: "
            + kafka.bootstrapServers()
            + "\ntables:\n  - table: public."
            + table
            + "\n    topic: "
            + topic
            + "\n    key: [id]\n");
    Cli.Result capture = cli(file, "capture", "--table", table, "--no-create-slot");
    assertThat(capture.exit()).as(capture.toString()).isZero();
    Cli.Result shadow =
        cli(file, "shadow", "--table", table, "--group", GROUP, "--force", "--reason", "test");
    assertThat(shadow.exit()).as(shadow.toString()).isZero();
    return file;
  }

  private static Cli.Result cli(Path config, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--config", config.toString()));
    return Cli.run(env(), all.toArray(String[]::new));
  }

  private static Map<String, String> env() {
    return Map.of("DB_PASSWORD", db.password());
  }

  /** Writes {@code n} records to {@code partition} of {@code topic}. */
  private static void produce(String topic, int partition, int n) {
    try (KafkaProducer<byte[], byte[]> p = kafka.newProducer()) {
      for (int i = 0; i < n; i++) {
        ProducerRecord<byte[], byte[]> r =
            new ProducerRecord<>(topic, partition, Fixtures.bytes("k" + i), Fixtures.bytes("{}"));
        r.headers().add("ce_time", Fixtures.bytes(java.time.Instant.now().toString()));
        p.send(r);
      }
      p.flush();
    }
  }

  @Test
  void jsonReportsEventsConsumerLagAndDeadLetters() throws Exception {
    String table = "watched_queue";
    String topic = "status.watched." + System.nanoTime();
    kafka.createTopic(topic, 2);
    Path config = shadowed(table, topic);
    produce(topic, 0, 3);
    produce(topic, 1, 2);
    // the group committed 1 of partition 0's 3 records and nothing of partition 1
    kafka
        .admin()
        .alterConsumerGroupOffsets(
            GROUP, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(1)))
        .all()
        .get();
    kafka.createTopic(topic + ".DLT", 1);
    produce(topic + ".DLT", 0, 2);

    Cli.Result r = cli(config, "status", "--json");

    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode t = tableNamed(r.json(), "public." + table);
    // the fields there were before
    assertThat(t.get("table").asText()).isEqualTo("public." + table);
    assertThat(t.get("phase").asText()).isEqualTo("shadow");
    assertThat(t.get("topic").asText()).isEqualTo(topic);
    assertThat(t.get("lastEventTime").isNull()).isFalse();
    assertThat(r.json().at("/slot/exists").asBoolean()).isFalse();
    // the new ones
    assertThat(r.json().get("takenAt").asText()).isNotEmpty();
    assertThat(t.get("endOffset").asLong()).isEqualTo(5);
    assertThat(t.get("eventsPerSecond").isNull()).as("one sample has no rate").isTrue();
    JsonNode g = t.get("consumerGroups").get(0);
    assertThat(g.get("group").asText()).isEqualTo(GROUP);
    assertThat(g.get("lag").asLong()).isEqualTo(2 + 2);
    assertThat(g.get("uncommittedPartitions").asInt()).isEqualTo(1);
    assertThat(g.get("members").asInt()).isZero();
    assertThat(t.get("deadLetterTopic").asText()).isEqualTo(topic + ".DLT");
    assertThat(t.get("deadLetters").asLong()).isEqualTo(2);

    Cli.Result text = cli(config, "status");
    assertThat(text.exit()).as(text.toString()).isZero();
    assertThat(text.out())
        .contains("public." + table, "shadow")
        .contains("events 5", "group " + GROUP + " lag 4 (0 consumer(s)")
        .contains("1 partition(s) never committed")
        .contains("dead letters 2 in " + topic + ".DLT");
  }

  @Test
  void aTableWithoutDeadLettersOrCommitsSaysSo() throws Exception {
    String table = "quiet_queue";
    String topic = "status.quiet." + System.nanoTime();
    kafka.createTopic(topic, 1);
    Path config = shadowed(table, topic);

    Cli.Result r = cli(config, "status", "--json");

    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode t = tableNamed(r.json(), "public." + table);
    assertThat(t.get("endOffset").asLong()).isZero();
    assertThat(t.get("deadLetters").isNull()).as("no DLT topic").isTrue();
    assertThat(t.at("/consumerGroups/0/lag").asLong()).isZero();
    assertThat(t.at("/consumerGroups/0/state").asText()).isNotEmpty();
  }

  @Test
  void theSecondSampleMeasuresEventsPerSecondFromTheEndOffsets() throws Exception {
    String table = "rate_queue";
    String topic = "status.rate." + System.nanoTime();
    kafka.createTopic(topic, 2);
    Path config = shadowed(table, topic);
    Migrations m = Migrations.builder().configFile(config).environment(env()).build();

    StatusReport first = m.status(null);
    produce(topic, 0, 4);
    produce(topic, 1, 2);
    StatusReport second = m.status(null, first);

    StatusReport.TableStatus before = tableNamed(first, "public." + table);
    StatusReport.TableStatus after = tableNamed(second, "public." + table);
    assertThat(before.eventsPerSecond()).isNull();
    assertThat(after.endOffset() - before.endOffset()).isEqualTo(6);
    double seconds = Duration.between(first.takenAt(), second.takenAt()).toNanos() / 1e9;
    assertThat(after.eventsPerSecond())
        .isCloseTo(6 / seconds, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(after.eventsPerSecond()).isPositive();
  }

  @Test
  void watchJsonPrintsOneSnapshotPerLineUntilTheCount() throws Exception {
    String table = "count_queue";
    String topic = "status.count." + System.nanoTime();
    kafka.createTopic(topic, 1);
    Path config = shadowed(table, topic);

    Cli.Result r =
        cli(config, "status", "--watch", "--json", "--interval", "100ms", "--count", "3");

    assertThat(r.exit()).as(r.toString()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(3);
    List<JsonNode> snapshots = new ArrayList<>();
    for (String line : lines) {
      snapshots.add(Cli.JSON.readTree(line));
    }
    assertThat(tableNamed(snapshots.get(0), "public." + table).get("eventsPerSecond").isNull())
        .isTrue();
    assertThat(tableNamed(snapshots.get(2), "public." + table).get("eventsPerSecond").asDouble())
        .as("nothing written between the samples")
        .isZero();
  }

  @Test
  void watchRunsUntilInterruptedAndEndsWithZero() throws Exception {
    Path config = dir.resolve("nothing.yaml");
    Files.writeString(
        config,
        "source:\n  jdbc-url: "
            + db.jdbcUrl()
            + "\n  user: "
            + db.user()
            + "\n  password: ${DB_PASSWORD}\nkafka:\n  bootstrap-servers: "
            + kafka.bootstrapServers()
            + "\n");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Unpoll.commandLine(env(), false);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    AtomicInteger exit = new AtomicInteger(-1);
    Thread watcher =
        new Thread(
            () ->
                exit.set(
                    cl.execute(
                        "status",
                        "--watch",
                        "--json",
                        "--interval",
                        "100ms",
                        "--config",
                        config.toString())),
            "status-watch-test");
    watcher.start();

    await().atMost(Duration.ofSeconds(60)).until(() -> out.toString().lines().count() >= 2);
    watcher.interrupt();
    watcher.join(Duration.ofSeconds(60).toMillis());

    assertThat(watcher.isAlive()).isFalse();
    assertThat(exit.get()).as("out: %s%nerr: %s", out, err).isZero();
    for (String line : out.toString().lines().toList()) {
      assertThat(Cli.JSON.readTree(line).has("tables")).as(line).isTrue();
    }
  }

  @Test
  void watchWithoutATerminalPrintsPlainSnapshotsAndOnATerminalRedrawsInPlace() throws Exception {
    Path config = shadowed("plain_queue", "status.plain." + System.nanoTime());

    Cli.Result plain = cli(config, "status", "--watch", "--interval", "50ms", "--count", "2");

    assertThat(plain.exit()).as(plain.toString()).isZero();
    assertThat(plain.out().lines().filter(l -> l.startsWith("--- ")).count()).isEqualTo(2);
    assertThat(plain.out()).doesNotContain("\033[").contains("public.plain_queue");

    StringWriter out = new StringWriter();
    CommandLine cl = Unpoll.commandLine(env(), true);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(new StringWriter(), true));
    int exit =
        cl.execute(
            "status",
            "--watch",
            "--interval",
            "50ms",
            "--count",
            "2",
            "--config",
            config.toString());
    assertThat(exit).isZero();
    assertThat(out.toString().split("\033\\[H\033\\[2J", -1)).hasSize(3);
    assertThat(out.toString()).contains("Ctrl-C to stop", "public.plain_queue");
  }

  @Test
  void countWithoutWatchIsAUsageError() {
    Cli.Result r = Cli.run(db, null, "status", "--count", "2");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--count", "--watch");
  }

  private static JsonNode tableNamed(JsonNode report, String table) {
    for (JsonNode t : report.get("tables")) {
      if (t.get("table").asText().equals(table)) {
        return t;
      }
    }
    throw new AssertionError(table + " not in " + report);
  }

  private static StatusReport.TableStatus tableNamed(StatusReport report, String table) {
    return report.tables().stream().filter(t -> t.table().equals(table)).findFirst().orElseThrow();
  }
}
