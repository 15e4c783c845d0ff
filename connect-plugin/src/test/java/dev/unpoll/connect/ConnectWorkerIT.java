package dev.unpoll.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.config.ConfigException;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.ConnectorConfig;
import dev.unpoll.relay.ConnectorStatus;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The plugin on a real distributed Connect worker: a bad mapping is refused at connector validation
 * with the relay's own message; a restart of the task and of the worker loses nothing.
 */
@ExtendWith(UnpollStackExtension.class)
class ConnectWorkerIT {

  static final String GROUP = "connect-worker-it";

  static TestPostgres db;
  static TestKafka kafka;
  static ConnectWorker worker;

  @BeforeAll
  static void start(TestPostgres server, TestKafka broker) {
    db = server.createDatabase("connect_worker_it");
    kafka = broker;
    ConnectFixtures.connectRole(db);
    kafka.createTopic("worker_it.restart", 3);
    ConnectFixtures.sql(
        db,
        "create table restart_q (id int primary key, note text)",
        RelayNames.heartbeatTableDdl(),
        "create publication worker_it for table restart_q, " + RelayNames.HEARTBEAT_TABLE.quoted());
    worker = ConnectWorker.start(kafka, GROUP);
  }

  @AfterAll
  static void stop() {
    if (worker != null) {
      worker.close();
    }
  }

  static String yaml(String tables) {
    return """
        source:
          jdbc-url: %s
          user: %s
          password: ${UNPOLL_DB_PASSWORD}
          slot: worker_it
          publication: worker_it
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
        """
            .formatted(db.jdbcUrl(), ConnectFixtures.CONNECT_ROLE, kafka.bootstrapServers())
        + tables;
  }

  static final String TABLES =
      """
      tables:
        - table: public.restart_q
          topic: worker_it.restart
      """;

  /** What {@code unpoll connect-config} prints for {@code file}, as a map. */
  static Map<String, String> connectorConfig(String file, String name) {
    UnpollConfig config = UnpollConfig.parse(file, Map.of(ConnectorConfig.PASSWORD_ENV, "x"));
    return new TreeMap<>(
        ConnectorConfig.of(config, ConnectorConfig.mappingYaml(file, Optional.empty()), name));
  }

  @Test
  void aBadMappingIsRefusedAtValidationAndCreationWithTheRelaysMessage() throws Exception {
    String bad =
        """
        tables:
          - table: public.restart_q
            value: blob
          - table: public.other_q
            topic: "not a topic"
        """;
    String relayMessage;
    try {
      UnpollConfig.parse(yaml(bad), Map.of(ConnectorConfig.PASSWORD_ENV, "x"));
      throw new AssertionError("the relay accepted the bad mapping");
    } catch (ConfigException e) {
      relayMessage = e.getMessage();
    }
    assertThat(relayMessage).contains("tables[0].topic", "tables[0].value", "tables[1].topic");
    assertThat(Files.readString(Path.of("../docs/kafka-connect.md")))
        .as("docs/kafka-connect.md shows the message")
        .contains(relayMessage);
    Map<String, String> config = connectorConfig(yaml(TABLES), "unpoll-bad");
    config.put("transforms.unpoll.mapping", ConnectorConfig.mappingYaml(bad, Optional.empty()));
    String body = ConnectorConfig.json(config);

    HttpResponse<String> validated =
        worker.put(
            "connector-plugins/" + ConnectorConfig.CONNECTOR_CLASS + "/config/validate", body);
    assertThat(validated.statusCode()).as(validated.body()).isEqualTo(200);
    JsonNode v = ConnectWorker.json(validated.body());
    assertThat(v.path("error_count").asInt()).as(validated.body()).isEqualTo(1);
    assertThat(errors(v, "transforms.unpoll.mapping")).containsExactly(relayMessage);

    // creating it is refused too; Kafka Connect 4.3.0 answers 500 here, not 400 with the errors (a
    // NullPointerException in AbstractHerder.maybeAddConfigErrors), so only the refusal is checked
    HttpResponse<String> created = worker.put("connectors/unpoll-bad/config", body);
    assertThat(created.statusCode()).as(created.body()).isGreaterThanOrEqualTo(400);
    assertThat(worker.get("connectors/unpoll-bad/status").statusCode()).isEqualTo(404);
  }

  private static List<String> errors(JsonNode validation, String name) {
    for (JsonNode c : validation.path("configs")) {
      if (c.path("value").path("name").asText().equals(name)) {
        List<String> errors = new java.util.ArrayList<>();
        c.path("value").path("errors").forEach(e -> errors.add(e.asText()));
        return errors;
      }
    }
    throw new AssertionError("no config " + name + " in " + validation);
  }

  @Test
  void restartsOfTheTaskAndOfTheWorkerLoseNothing() {
    String name = "unpoll-restart";
    var put =
        worker.put(
            "connectors/" + name + "/config",
            ConnectorConfig.json(connectorConfig(yaml(TABLES), name)));
    assertThat(put.statusCode()).as(put.body()).isIn(200, 201);
    awaitRunning(name);
    // streaming: a row written now reaches the topic
    insert(0, 0);
    try (TopicReader reader = new TopicReader(kafka, "worker_it.restart")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 1);

      insert(1, 100);
      HttpResponse<String> restart = worker.post("connectors/" + name + "/tasks/0/restart");
      assertThat(restart.statusCode()).as(restart.body()).isIn(200, 202, 204);
      awaitRunning(name);
      insert(101, 200);

      worker.close();
      worker = ConnectWorker.start(kafka, GROUP);
      awaitRunning(name);
      insert(201, 300);

      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> keys(reader.poll()).keySet().size() >= 301);
      Map<Integer, Integer> keys = keys(reader.settle(Duration.ofSeconds(2)));
      assertThat(keys).as("every row, once or more").hasSize(301);
      int duplicates = keys.values().stream().mapToInt(n -> n - 1).sum();
      // a graceful stop commits the offsets of everything acknowledged: the rows written after
      // the last restart are never published again
      assertThat(keys.entrySet())
          .filteredOn(e -> e.getKey() > 200)
          .allSatisfy(e -> assertThat(e.getValue()).as("row %s", e.getKey()).isEqualTo(1));
      System.out.println("restart duplicates: " + duplicates);
    }
    // what unpoll status --connect-url shows
    assertThat(ConnectorStatus.fetch(worker.url()))
        .filteredOn(c -> c.name().equals(name))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.state()).isEqualTo("RUNNING");
              assertThat(c.tasks())
                  .extracting(ConnectorStatus.Task::state)
                  .containsExactly("RUNNING");
              assertThat(c.line())
                  .startsWith("connector unpoll-restart: RUNNING on ")
                  .contains("; task 0 RUNNING on ");
            });
  }

  /**
   * A COPY writes its rows as multi-insert WAL records whose rows share one LSN. The task is
   * stopped (a chained test transformation fails it) after 100 of them, inside such a record, with
   * Debezium's batches cut at 10 records; the task restarted without that transformation must still
   * publish every row (debezium/dbz#1554 is why the relay holds such rows back).
   */
  @Test
  void aTaskStoppedInsideACopysWalRecordLosesNoRow() {
    String name = "unpoll-copy";
    ConnectFixtures.sql(
        db,
        "create table copy_q (id int primary key, note text)",
        "create publication worker_copy for table copy_q, " + RelayNames.HEARTBEAT_TABLE.quoted());
    kafka.createTopic("worker_it.copy", 1);
    String file =
        yaml("""
                tables:
                  - table: public.copy_q
                    topic: worker_it.copy
                """)
            .replace("slot: worker_it", "slot: worker_copy")
            .replace("publication: worker_it", "publication: worker_copy");
    Map<String, String> config = connectorConfig(file, name);
    config.put("max.batch.size", "10");
    Map<String, String> gated = new TreeMap<>(config);
    gated.put("transforms", "unpoll,gate");
    gated.put("transforms.gate.type", FailAfter.class.getName());
    gated.put("transforms.gate.fail.after", "100");
    var put = worker.put("connectors/" + name + "/config", ConnectorConfig.json(gated));
    assertThat(put.statusCode()).as(put.body()).isIn(200, 201);
    awaitRunning(name);
    // a running connector has committed an offset (its heartbeats'): the position before the COPY
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> worker.get("connectors/" + name + "/offsets").body(), b -> b.contains("\"lsn\""));
    ConnectFixtures.copy(db, "copy_q", 1, 1000);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> worker.state(name), s -> s.equals("RUNNING:FAILED"));
    System.out.println(
        "offsets after the stop: " + worker.get("connectors/" + name + "/offsets").body());
    var again = worker.put("connectors/" + name + "/config", ConnectorConfig.json(config));
    assertThat(again.statusCode()).as(again.body()).isIn(200, 201);
    worker.post("connectors/" + name + "/restart?includeTasks=true&onlyFailed=true");
    awaitRunning(name);
    ConnectFixtures.sql(db, "insert into copy_q values (1001, 'after')");
    try (TopicReader reader = new TopicReader(kafka, "worker_it.copy")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> keys(reader.poll()).containsKey(1001));
      Map<Integer, Integer> keys = keys(reader.settle(Duration.ofSeconds(2)));
      List<Integer> missing =
          java.util.stream.IntStream.rangeClosed(1, 1001)
              .filter(i -> !keys.containsKey(i))
              .boxed()
              .toList();
      System.out.println(
          "copy: " + keys.size() + " distinct rows, missing " + missing.size() + ": " + missing);
      assertThat(missing).as("rows never published").isEmpty();
    }
  }

  private static Map<Integer, Integer> keys(List<ConsumerRecord<byte[], byte[]>> records) {
    Map<Integer, Integer> count = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      count.merge(Integer.parseInt(new String(r.key(), StandardCharsets.UTF_8)), 1, Integer::sum);
    }
    return count;
  }

  private static void awaitRunning(String name) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> worker.state(name), s -> s.equals("RUNNING:RUNNING"));
  }

  private static void insert(int from, int to) {
    ConnectFixtures.sql(
        db,
        "insert into restart_q select g, 'row-' || g from generate_series("
            + from
            + ", "
            + to
            + ") g");
  }
}
