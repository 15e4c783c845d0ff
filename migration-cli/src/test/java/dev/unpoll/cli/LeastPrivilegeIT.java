package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * The relay runs as the role {@code unpoll grants} prints, not as a superuser: the printed SQL is
 * applied as the superuser, then the relay (as the new role) reads a backlog, streams, restarts
 * from its stored offsets; without one of the grants it stops with a message naming what is
 * missing.
 */
@ExtendWith(UnpollStackExtension.class)
class LeastPrivilegeIT {
  static final String PASSWORD = "lp-relay-secret";
  static TestPostgres db;

  @TempDir Path dir;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("least_privilege_it");
  }

  private String yaml(TestKafka kafka, String role, String slot, String table, String topic) {
    return """
        source:
          jdbc-url: %s
          user: %s
          password: ${RELAY_PASSWORD}
          slot: %s
          publication: %s
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
        tables:
          - table: %s
            topic: %s
            status: {column: status, pending: [NEW], done: [DONE]}
            backlog: true
        """
        .formatted(db.jdbcUrl(), role, slot, slot, kafka.bootstrapServers(), table, topic);
  }

  /** Runs {@code unpoll grants} on the file and applies what it prints as the superuser. */
  private String grantsApplied(Path config, String role) throws Exception {
    Cli.Result r =
        Cli.run(
            Map.of("RELAY_PASSWORD", PASSWORD),
            "grants",
            "--config",
            config.toString(),
            "--role",
            role);
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).doesNotContain(PASSWORD);
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(r.out());
      s.execute(r.out()); // safe to run again
      s.execute("ALTER ROLE \"" + role + "\" PASSWORD '" + PASSWORD + "'");
    }
    return r.out();
  }

  @Test
  void theRelayRunsAsThePrintedRoleThroughBacklogStreamingAndARestart(TestKafka kafka)
      throws Exception {
    String topic = kafka.createUniqueTopic("least-privilege", 3);
    Fixtures.sql(
        db,
        "CREATE TABLE lp_queue (id bigserial PRIMARY KEY, body text,"
            + " status text NOT NULL DEFAULT 'NEW')",
        "INSERT INTO lp_queue (body, status) SELECT 'done-' || g, 'DONE'"
            + " FROM generate_series(1, 3) g",
        "INSERT INTO lp_queue (body) SELECT 'pending-' || g FROM generate_series(1, 5) g");
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(config, yaml(kafka, "lp_relay", "lp_it", "lp_queue", topic));
    String sql = grantsApplied(config, "lp_relay");
    LoggerFactory.getLogger(LeastPrivilegeIT.class).info("unpoll grants printed:\n{}", sql);
    assertThat(Fixtures.text(db, "SELECT rolsuper::text FROM pg_roles WHERE rolname = 'lp_relay'"))
        .isEqualTo("false");

    Cli.Result json =
        Cli.run(
            Map.of("RELAY_PASSWORD", PASSWORD),
            "grants",
            "--config",
            config.toString(),
            "--role",
            "lp_relay",
            "--json");
    assertThat(json.exit()).as(json.toString()).isZero();
    JsonNode j = json.json();
    assertThat(j.get("role").asText()).isEqualTo("lp_relay");
    assertThat(j.get("statements").size()).isGreaterThan(5);

    UnpollConfig relayConfig = UnpollConfig.load(config, Map.of("RELAY_PASSWORD", PASSWORD));
    Set<String> expected = new HashSet<>(List.of("4", "5", "6", "7", "8"));
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      try (Relay relay = Relay.builder().config(relayConfig).build()) {
        relay.start();
        await()
            .atMost(Duration.ofSeconds(60))
            .failFast("the relay stopped", () -> assertThat(relay.lastError()).isEmpty())
            .until(relay::isStreaming);
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> keys(reader.poll()).containsAll(expected));
        Fixtures.sql(db, "INSERT INTO lp_queue (body) VALUES ('streamed')");
        expected.add("9");
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> keys(reader.poll()).containsAll(expected));
      }
      // the offsets are the role's own, in its schema
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  Fixtures.number(db, "SELECT count(*) FROM lp_relay.unpoll_relay_offsets_lp_it")
                      > 0);
      assertThat(
              Fixtures.text(
                  db,
                  "SELECT usename FROM pg_replication_slots s JOIN pg_stat_activity a"
                      + " ON a.pid = s.active_pid WHERE slot_name = 'lp_it'"))
          .isNull();

      Fixtures.sql(db, "INSERT INTO lp_queue (body) VALUES ('while stopped')");
      expected.add("10");
      try (Relay relay = Relay.builder().config(relayConfig).build()) {
        relay.start();
        await()
            .atMost(Duration.ofSeconds(60))
            .failFast("the relay stopped", () -> assertThat(relay.lastError()).isEmpty())
            .until(relay::isStreaming);
        Fixtures.sql(db, "INSERT INTO lp_queue (body) VALUES ('after restart')");
        expected.add("11");
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> keys(reader.poll()).containsAll(expected));
        assertThat(
                Fixtures.text(
                    db,
                    "SELECT a.usename FROM pg_replication_slots s JOIN pg_stat_activity a"
                        + " ON a.pid = s.active_pid WHERE slot_name = 'lp_it'"))
            .as("the slot is streamed by the least-privilege role")
            .isEqualTo("lp_relay");
      }
      assertThat(keys(reader.settle(Duration.ofSeconds(2)))).isEqualTo(expected);
    }
  }

  @Test
  void aRelaySwitchedFromTheSuperuserToThePrintedRoleResumesFromItsStoredOffsets(TestKafka kafka)
      throws Exception {
    String topic = kafka.createUniqueTopic("least-privilege-switch", 1);
    Fixtures.sql(
        db,
        "CREATE TABLE lp_switch (id bigserial PRIMARY KEY, body text,"
            + " status text NOT NULL DEFAULT 'NEW')",
        "INSERT INTO lp_switch (body) SELECT 'pending-' || g FROM generate_series(1, 3) g");
    Path superuserConfig = dir.resolve("superuser.yaml");
    Files.writeString(
        superuserConfig,
        yaml(kafka, db.user(), "lp_switch_it", "lp_switch", topic)
            .replace("${RELAY_PASSWORD}", "${SUPERUSER_PASSWORD}"));
    Set<String> expected = new HashSet<>(List.of("1", "2", "3", "4"));
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      try (Relay relay =
          Relay.builder()
              .config(
                  UnpollConfig.load(superuserConfig, Map.of("SUPERUSER_PASSWORD", db.password())))
              .build()) {
        relay.start();
        await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
        Fixtures.sql(db, "INSERT INTO lp_switch (body) VALUES ('streamed')");
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> keys(reader.poll()).containsAll(expected));
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    Fixtures.number(
                            db, "SELECT count(*) FROM public.unpoll_relay_offsets_lp_switch_it")
                        > 0);
      }
      int publishedAsSuperuser = reader.settle(Duration.ofSeconds(1)).size();
      Fixtures.sql(db, "INSERT INTO lp_switch (body) VALUES ('while switching')");
      expected.add("5");

      Path config = dir.resolve("unpoll.yaml");
      Files.writeString(config, yaml(kafka, "lp_switch", "lp_switch_it", "lp_switch", topic));
      grantsApplied(config, "lp_switch");
      assertThat(
              Fixtures.number(
                  db, "SELECT count(*) FROM lp_switch.unpoll_relay_offsets_lp_switch_it"))
          .as("the stored offsets moved into the role's schema")
          .isPositive();
      assertThat(
              Fixtures.text(
                  db, "SELECT to_regclass('public.unpoll_relay_offsets_lp_switch_it')::text"))
          .isNull();

      try (Relay relay =
          Relay.builder()
              .config(UnpollConfig.load(config, Map.of("RELAY_PASSWORD", PASSWORD)))
              .build()) {
        relay.start();
        await()
            .atMost(Duration.ofSeconds(60))
            .failFast("the relay stopped", () -> assertThat(relay.lastError()).isEmpty())
            .until(relay::isStreaming);
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> keys(reader.poll()).containsAll(expected));
      }
      List<ConsumerRecord<byte[], byte[]>> all = reader.settle(Duration.ofSeconds(2));
      assertThat(keys(all)).isEqualTo(expected);
      assertThat(all)
          .as(
              "resumed from the stored offsets: the backlog is not read again, nothing is republished")
          .hasSize(publishedAsSuperuser + 1);
    }
  }

  @Test
  void doctorPointsASuperuserToTheLeastPrivilegeRole() {
    Cli.Result asSuperuser = Cli.run(db, null, "doctor", "--json");
    JsonNode check = check(asSuperuser.json(), "least-privilege");
    assertThat(check).as(asSuperuser.toString()).isNotNull();
    assertThat(check.get("status").asText()).isEqualTo("warn");
    assertThat(check.get("fix").asText()).contains("unpoll grants");

    Fixtures.sql(
        db,
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lp_doctor') THEN"
            + " CREATE ROLE lp_doctor LOGIN REPLICATION; END IF; END $$",
        "ALTER ROLE lp_doctor PASSWORD '" + PASSWORD + "'");
    Cli.Result asRole =
        Cli.run(
            Map.of("PGPASSWORD", PASSWORD),
            "doctor",
            "--db",
            db.jdbcUrl(),
            "--user",
            "lp_doctor",
            "--json");
    assertThat(check(asRole.json(), "least-privilege")).as(asRole.toString()).isNull();
    assertThat(check(asRole.json(), "replication-privilege").get("status").asText())
        .isEqualTo("pass");
  }

  private static JsonNode check(JsonNode doctor, String name) {
    for (JsonNode c : doctor.get("checks")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    return null;
  }

  /** Each grant the printed SQL gives, taken away: what the relay says then. */
  static Stream<Arguments> grantsTakenAway() {
    return Stream.of(
        Arguments.of("no_replication", "ALTER ROLE %1$s NOREPLICATION", "REPLICATION attribute"),
        Arguments.of(
            "no_select", "REVOKE SELECT ON %2$s FROM %1$s", "permission denied for table lp_no_"),
        Arguments.of(
            "no_heartbeat",
            "REVOKE INSERT, UPDATE ON public.unpoll_relay_heartbeat FROM %1$s",
            "cannot write the heartbeat table"),
        Arguments.of("no_schema", "DROP SCHEMA %1$s", "a schema of its own"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("grantsTakenAway")
  void withoutOneGrantTheRelayStopsWithAMessageNamingIt(
      String name, String revoke, String expected, TestKafka kafka) throws Exception {
    String role = "lp_" + name;
    String table = "lp_" + name + "_q";
    String topic = kafka.createUniqueTopic("least-privilege-" + name.replace('_', '-'), 1);
    Fixtures.sql(
        db,
        "CREATE TABLE "
            + table
            + " (id bigserial PRIMARY KEY, body text,"
            + " status text NOT NULL DEFAULT 'NEW')",
        "INSERT INTO " + table + " (body) VALUES ('pending')");
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(config, yaml(kafka, role, role, table, topic));
    grantsApplied(config, role);
    Fixtures.sql(db, revoke.formatted(role, table));
    UnpollConfig relayConfig = UnpollConfig.load(config, Map.of("RELAY_PASSWORD", PASSWORD));
    String error;
    try (Relay relay = Relay.builder().config(relayConfig).build()) {
      try {
        relay.start();
      } catch (RuntimeException e) {
        // a check before the engine may already refuse; lastError() has it too
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> relay.lastError().isPresent());
      error = relay.lastError().orElseThrow();
    }
    LoggerFactory.getLogger(LeastPrivilegeIT.class).info("MEASURED {}: {}", name, error);
    assertThat(error).contains(expected);
    assertThat(error).doesNotContain(PASSWORD);
  }

  private static Set<String> keys(List<ConsumerRecord<byte[], byte[]>> records) {
    Set<String> keys = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      keys.add(new String(r.key(), StandardCharsets.UTF_8));
    }
    return keys;
  }
}
