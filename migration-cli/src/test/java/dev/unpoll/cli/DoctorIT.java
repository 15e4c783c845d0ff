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
