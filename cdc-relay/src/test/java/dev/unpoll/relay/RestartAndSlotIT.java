package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(UnpollStackExtension.class)
class RestartAndSlotIT {

  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_restart_it");
    sql(
        db,
        "create table restart_q (id int primary key, note text)",
        "create table slot_q (id int primary key, note text)",
        "create table pub_q (id int primary key, note text)",
        "create table other_q (id int primary key, note text)",
        "create table recreated_q (id int primary key, note text)");
  }

  private static String yaml(TestKafka kafka, String slot, String table, String topic) {
    return RelayFixtures.baseYaml(db, kafka, slot)
        + """
        tables:
          - table: %s
            topic: %s
        """
            .formatted(table, topic);
  }

  @Test
  void aRestartResumesFromTheStoredOffsetsWithNothingLost(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("restart", 1);
    UnpollConfig config = RelayFixtures.config(db, yaml(kafka, "restart_it", "restart_q", topic));
    try (Relay relay = Relay.builder().config(config).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(db, "insert into restart_q select g, 'first' from generate_series(1, 20) g");
      try (TopicReader reader = new TopicReader(kafka, topic)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 20);
      }
    }
    sql(db, "insert into restart_q select g, 'while stopped' from generate_series(21, 40) g");
    try (Relay relay = Relay.builder().config(config).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(db, "insert into restart_q select g, 'after' from generate_series(41, 50) g");
      try (TopicReader reader = new TopicReader(kafka, topic)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 50);
        List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(2));
        assertThat(records.stream().map(RelayFixtures::key).map(Integer::parseInt).toList())
            .containsExactlyElementsOf(
                java.util.stream.IntStream.rangeClosed(1, 50).boxed().toList());
      }
    }
  }

  @Test
  void aMissingSlotWithExistingOffsetsStopsWithAClearErrorInsteadOfRecreatingIt(
      TestKafka kafka, @TempDir Path dir) throws Exception {
    String topic = kafka.createUniqueTopic("slot", 1);
    String yaml = yaml(kafka, "slot_it", "slot_q", topic);
    UnpollConfig config = RelayFixtures.config(db, yaml);
    try (Relay relay = Relay.builder().config(config).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(db, "insert into slot_q values (1, 'x')");
      await().atMost(Duration.ofSeconds(60)).until(() -> relay.lastAcknowledgedLsn().isPresent());
      // stored, not only published: an insert's offset is stored with the next record (the
      // heartbeat's at the latest), see KafkaPublisher.SameLsnTail
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(() -> count("select count(*) from unpoll_relay_offsets_slot_it") > 0);
    }
    sql(db, "select pg_drop_replication_slot('slot_it')");

    Relay again = Relay.builder().config(config).build();
    assertThatThrownBy(again::start)
        .isInstanceOf(RelaySlotException.class)
        .hasMessageContaining("replication slot slot_it is missing")
        .hasMessageContaining("new slot name");
    assertThat(again.isHealthy()).isFalse();
    assertThat(again.lastError()).isPresent();
    assertThat(count("select count(*) from pg_replication_slots where slot_name = 'slot_it'"))
        .isZero();

    Path file = dir.resolve("relay.yaml");
    Files.writeString(
        file, RelayFixtures.withoutHttp(yaml.replace("${TEST_DB_PASSWORD}", db.password())));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = RelayMain.run(file, new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).isEqualTo(RelayMain.EXIT_SLOT);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("slot_it is missing");
  }

  @Test
  void aPublicationWithoutAConfiguredTableStopsTheRelayAndSaysWhatToRun(TestKafka kafka) {
    sql(db, "create publication pub_it for table pub_q");
    String yaml =
        RelayFixtures.baseYaml(db, kafka, "pub_it")
            + """
            tables:
              - table: pub_q
                topic: t1
              - table: other_q
                topic: t2
            """;
    Relay relay = Relay.builder().config(RelayFixtures.config(db, yaml)).build();
    assertThatThrownBy(relay::start)
        .isInstanceOf(RelaySlotException.class)
        .hasMessageContaining("publication pub_it does not cover")
        .hasMessageContaining("ALTER PUBLICATION \"pub_it\" ADD TABLE \"public\".\"other_q\"");
  }

  @Test
  void missingTablesAndColumnsAreAllReportedAtStart(TestKafka kafka, @TempDir Path dir)
      throws Exception {
    String yaml =
        RelayFixtures.baseYaml(db, kafka, "schema_it")
            + """
            tables:
              - table: no_such_table
                topic: t1
              - table: restart_q
                topic: t2
                key: [order_no]
                bookkeeping-columns: [status]
            """;
    Relay relay = Relay.builder().config(RelayFixtures.config(db, yaml)).build();
    assertThatThrownBy(relay::start)
        .isInstanceOfSatisfying(
            RelayConfigException.class,
            e ->
                assertThat(e.problems())
                    .hasSize(3)
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith(
                                    "tables[0].table: \"public.no_such_table\" does not exist"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .isEqualTo(
                                    "tables[1].key[0]: column \"order_no\" does not exist in"
                                        + " public.restart_q (columns: id, note)"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith(
                                    "tables[1].bookkeeping-columns[0]: column \"status\"")));
    Path file = dir.resolve("relay.yaml");
    Files.writeString(
        file, RelayFixtures.withoutHttp(yaml.replace("${TEST_DB_PASSWORD}", db.password())));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(RelayMain.run(file, new PrintStream(err, true, StandardCharsets.UTF_8)))
        .isEqualTo(RelayMain.EXIT_CONFIG);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("3 problems").contains("order_no");
  }

  private static long count(String query) throws Exception {
    try (var c = db.connect();
        var s = c.createStatement();
        var rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void aSlotRecreatedBehindTheOffsetsStopsTheRelayInsteadOfStreamingOverTheGap(TestKafka kafka)
      throws Exception {
    String topic = kafka.createUniqueTopic("recreated", 1);
    UnpollConfig config =
        RelayFixtures.config(db, yaml(kafka, "recreated_it", "recreated_q", topic));
    try (Relay relay = Relay.builder().config(config).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(db, "insert into recreated_q values (1, 'seen')");
      await().atMost(Duration.ofSeconds(60)).until(() -> relay.lastAcknowledgedLsn().isPresent());
      // stored, not only published: an insert's offset is stored with the next record (the
      // heartbeat's at the latest), see KafkaPublisher.SameLsnTail
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(() -> count("select count(*) from unpoll_relay_offsets_recreated_it") > 0);
    }
    sql(
        db,
        "select pg_drop_replication_slot('recreated_it')",
        "insert into recreated_q values (2, 'lost in the gap')",
        "select pg_create_logical_replication_slot('recreated_it', 'pgoutput')");
    try (Relay relay = Relay.builder().config(config).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> !relay.isHealthy());
      assertThat(relay.lastError().orElseThrow())
          .startsWith("replication slot recreated_it is ahead of this relay's stored offsets");
      assertThat(relay.failedOnSlot()).isTrue();
    }
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      assertThat(reader.settle(Duration.ofSeconds(1)))
          .extracting(RelayFixtures::key)
          .containsExactly("1");
    }
  }
}
