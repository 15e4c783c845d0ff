package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class DoctorIT {
  static TestPostgres db;
  static dev.unpoll.testkit.TestKafka kafka;

  @BeforeAll
  static void database(TestPostgres server, dev.unpoll.testkit.TestKafka k) {
    kafka = k;
    db = server.createDatabase("cli_doctor_it");
    Fixtures.sql(
        db,
        "CREATE TABLE with_pk (id int PRIMARY KEY, status text)",
        "CREATE TABLE without_pk (id int, status text)",
        "SELECT pg_create_logical_replication_slot('doctor_idle_slot', 'pgoutput')");
  }

  @AfterAll
  static void dropSlot() {
    Fixtures.sql(db, "SELECT pg_drop_replication_slot('doctor_idle_slot')");
  }

  private static JsonNode check(JsonNode doctor, String name) {
    for (JsonNode c : doctor.get("checks")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no check " + name + " in " + doctor);
  }

  /**
   * Amazon RDS and Aurora give nobody {@code REPLICATION}; a member of their {@code
   * rds_replication} role may replicate. The role is made here as RDS has it (no login, no
   * attributes), so the check is the catalog query the doctor runs on RDS.
   */
  @Test
  void aMemberOfRdsReplicationMayReplicateAndTheFixSaysSo() {
    Fixtures.sql(
        db,
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_replication') THEN"
            + " CREATE ROLE rds_replication NOLOGIN; END IF;"
            + " IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'doctor_rds') THEN"
            + " CREATE ROLE doctor_rds LOGIN NOREPLICATION; END IF; END $$",
        "ALTER ROLE doctor_rds PASSWORD 'doctor-rds-secret'",
        "REVOKE rds_replication FROM doctor_rds");
    java.util.function.Supplier<JsonNode> replicationCheck =
        () -> {
          Cli.Result r =
              Cli.run(
                  java.util.Map.of("PGPASSWORD", "doctor-rds-secret"),
                  "doctor",
                  "--db",
                  db.jdbcUrl(),
                  "--user",
                  "doctor_rds",
                  "--json");
          return check(r.json(), "replication-privilege");
        };
    JsonNode without = replicationCheck.get();
    assertThat(without.get("status").asText()).isEqualTo("fail");
    assertThat(without.get("fix").asText())
        .contains("ALTER ROLE \"doctor_rds\" REPLICATION;")
        .contains("GRANT rds_replication TO \"doctor_rds\";");

    Fixtures.sql(db, "GRANT rds_replication TO doctor_rds");
    assertThat(replicationCheck.get().get("status").asText()).isEqualTo("pass");
  }

  @Test
  void passesThePrerequisitesOfTheTestServerAndFlagsTheIdleSlot() {
    Cli.Result r = Cli.run(db, kafka, "doctor", "--table", "with_pk", "--json");
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode j = r.json();
    assertThat(check(j, "wal_level").get("status").asText()).isEqualTo("pass");
    assertThat(check(j, "kafka").get("detail").asText()).startsWith("1 broker(s) answer");
    assertThat(check(j, "replication-slots").get("status").asText()).isEqualTo("pass");
    assertThat(check(j, "wal-senders").get("status").asText()).isEqualTo("pass");
    assertThat(check(j, "replication-privilege").get("status").asText()).isEqualTo("pass");
    assertThat(check(j, "postgresql-version").get("detail").asText()).contains("PostgreSQL 17");
    assertThat(check(j, "max_slot_wal_keep_size").get("status").asText()).isEqualTo("warn");
    assertThat(check(j, "max_slot_wal_keep_size").get("fix").asText())
        .contains("ALTER SYSTEM SET max_slot_wal_keep_size");
    assertThat(check(j, "replica-identity public.with_pk").get("status").asText())
        .isEqualTo("pass");
    boolean idleFlagged = false;
    for (JsonNode c : j.get("checks")) {
      if (c.get("detail").asText().contains("doctor_idle_slot")) {
        idleFlagged = true;
        assertThat(c.get("status").asText()).isEqualTo("warn");
        assertThat(c.get("detail").asText()).contains("inactive", "retains");
        assertThat(c.get("fix").asText()).contains("pg_drop_replication_slot('doctor_idle_slot')");
      }
    }
    assertThat(idleFlagged).isTrue();
    assertThat(j.get("ok").asBoolean()).isTrue();
  }

  @Test
  void failsATableWithoutUsableReplicaIdentityAndPrintsTheFix() {
    Cli.Result r = Cli.run(db, null, "doctor", "--table", "without_pk");
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.out())
        .contains("[FAIL] replica-identity public.without_pk")
        .contains("fix: ALTER TABLE \"public\".\"without_pk\" ADD PRIMARY KEY")
        .containsPattern("\\d+ passed, \\d+ warning\\(s\\), 1 failed");
  }
}
