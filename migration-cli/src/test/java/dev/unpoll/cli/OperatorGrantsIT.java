package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The migration commands run as the role {@code unpoll grants --operator} prints, not as a
 * superuser: the printed SQL is applied (twice) as the superuser, then doctor, analyze, plan,
 * capture, status, shadow, dual and rollback run as that role; with one grant taken away (the table
 * owner's membership, then CREATE on the heartbeat table's schema), capture refuses with the
 * message docs/security.md and docs/troubleshooting.md show.
 */
@ExtendWith(UnpollStackExtension.class)
class OperatorGrantsIT {
  static final String PASSWORD = "op-operator-secret";
  static final String ROLE = "op_operator";

  @TempDir Path dir;

  @Test
  void theMigrationCommandsRunAsThePrintedRoleAndAMissingGrantIsNamed(
      TestPostgres server, TestKafka kafka) throws Exception {
    TestPostgres db = server.createDatabase("operator_grants_it");
    // the application's tables belong to the application's owner role, as in production
    Fixtures.sql(
        db,
        "CREATE ROLE op_app_owner NOLOGIN",
        "CREATE TABLE op_queue (id bigserial PRIMARY KEY, body text,"
            + " status text NOT NULL DEFAULT 'NEW', created_at timestamptz NOT NULL DEFAULT now(),"
            + " processed_at timestamptz)",
        "INSERT INTO op_queue (body, status, processed_at) SELECT 'done-' || g, 'DONE', now()"
            + " FROM generate_series(1, 3) g",
        "INSERT INTO op_queue (body) SELECT 'pending-' || g FROM generate_series(1, 4) g",
        "ALTER TABLE op_queue OWNER TO op_app_owner");
    Fixtures.consumerTables(db);
    String topic = kafka.createUniqueTopic("operator", 1);
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(
        config,
        """
        source:
          jdbc-url: %s
          user: op_relay
          password: ${RELAY_PASSWORD}
          slot: op_it
          publication: op_it
        kafka:
          bootstrap-servers: %s
        """
            .formatted(db.jdbcUrl(), kafka.bootstrapServers()));

    Map<String, String> env = Map.of("RELAY_PASSWORD", "unused", "OP_PASSWORD", PASSWORD);
    Cli.Result grants =
        Cli.run(
            env,
            "grants",
            "--operator",
            "--config",
            config.toString(),
            "--table",
            "public.op_queue",
            "--role",
            ROLE);
    assertThat(grants.exit()).as(grants.toString()).isZero();
    assertThat(grants.out()).doesNotContain(PASSWORD).contains("CREATE ROLE \"" + ROLE + "\"");
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(grants.out());
      s.execute(grants.out()); // safe to run again
      s.execute("ALTER ROLE " + ROLE + " PASSWORD '" + PASSWORD + "'");
    }
    assertThat(
            Fixtures.text(db, "SELECT rolsuper::text FROM pg_roles WHERE rolname = '" + ROLE + "'"))
        .isEqualTo("false");

    Cli.Result doctor =
        asOperator(env, db, config, "doctor", "--table", "public.op_queue", "--json");
    assertThat(doctor.exit()).as(doctor.toString()).isZero();
    assertThat(check(doctor.json(), "replication-privilege").get("status").asText())
        .isEqualTo("pass");
    assertThat(check(doctor.json(), "ownership public.op_queue").get("status").asText())
        .isEqualTo("pass");
    assertThat(check(doctor.json(), "publication")).as("the operator may create it").isNull();

    Cli.Result analyze = asOperator(env, db, config, "analyze", "--table", "public.op_queue");
    assertThat(analyze.exit()).as(analyze.toString()).isZero();
    Cli.Result plan =
        asOperator(
            env,
            db,
            config,
            "plan",
            "--table",
            "public.op_queue",
            "--topic",
            topic,
            "--out",
            config.toString());
    assertThat(plan.exit()).as(plan.toString()).isZero();

    Cli.Result capture = asOperator(env, db, config, "capture", "--table", "public.op_queue");
    assertThat(capture.exit()).as(capture.toString()).isZero();
    assertThat(
            Fixtures.number(
                db,
                "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'op_it'"
                    + " AND tablename = 'op_queue'"))
        .isEqualTo(1);
    assertThat(
            Fixtures.number(
                db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'op_it'"))
        .isEqualTo(1);

    Cli.Result status = asOperator(env, db, config, "status", "--json");
    assertThat(status.exit()).as(status.toString()).isZero();

    // the gates read the consumer's tables as the operator; forced, since no consumer runs here
    Cli.Result shadow =
        asOperator(
            env,
            db,
            config,
            "shadow",
            "--table",
            "public.op_queue",
            "--group",
            "op",
            "--settle",
            "0s",
            "--force",
            "--reason",
            "least-privilege drill");
    assertThat(shadow.exit()).as(shadow.toString()).isZero();
    assertThat(shadow.err()).doesNotContain("permission denied");
    Cli.Result dual =
        asOperator(
            env,
            db,
            config,
            "dual",
            "--table",
            "public.op_queue",
            "--settle",
            "0s",
            "--force",
            "--reason",
            "least-privilege drill");
    assertThat(dual.exit()).as(dual.toString()).isZero();
    assertThat(dual.err()).doesNotContain("permission denied");

    for (String back : List.of("shadow", "capturing", "analyzed")) {
      Cli.Result rollback =
          asOperator(
              env, db, config, "rollback", "--table", "public.op_queue", "--reason", "drill");
      assertThat(rollback.exit()).as(rollback.toString()).isZero();
      assertThat(rollback.out()).contains(back);
    }
    assertThat(
            Fixtures.number(
                db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'op_it'"))
        .as("the last rollback dropped the slot")
        .isZero();

    // one grant taken away: the table owner's membership; capture says what to grant
    Fixtures.sql(db, "REVOKE op_app_owner FROM " + ROLE);
    Cli.Result refused = asOperator(env, db, config, "capture", "--table", "public.op_queue");
    assertThat(refused.exit()).as(refused.toString()).isEqualTo(3);
    assertThat(refused.out())
        .contains(
            "[FAIL] publication-privilege",
            "publication changes need ownership of the table (owner op_app_owner)",
            "GRANT \"op_app_owner\" TO <user>");

    // another: CREATE on the heartbeat table's schema, which CREATE TABLE IF NOT EXISTS needs
    Fixtures.sql(
        db, "GRANT op_app_owner TO " + ROLE, "REVOKE CREATE ON SCHEMA public FROM " + ROLE);
    Cli.Result denied = asOperator(env, db, config, "capture", "--table", "public.op_queue");
    assertThat(denied.exit()).as(denied.toString()).isEqualTo(1);
    assertThat(denied.err())
        .contains(
            "cannot move public.op_queue to capturing: ERROR: permission denied for schema public");
  }

  @Test
  void aTableOwnedByASuperuserIsRefusedBeforeAnyGrant(TestPostgres server) throws Exception {
    TestPostgres db = server.createDatabase("operator_grants_superuser_it");
    Fixtures.sql(db, "CREATE TABLE op_super (id bigint PRIMARY KEY)");
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(
        config,
        """
        source:
          jdbc-url: %s
          user: op_relay
          password: x
          slot: op_super
          publication: op_super
        """
            .formatted(db.jdbcUrl()));
    Cli.Result sql =
        Cli.run(
            Map.of(),
            "grants",
            "--operator",
            "--config",
            config.toString(),
            "--table",
            "op_super",
            "--role",
            "op_super_operator");
    assertThat(sql.exit()).as(sql.toString()).isZero();
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(sql.out());
      throw new AssertionError("the script ran for a table a superuser owns");
    } catch (SQLException e) {
      assertThat(e.getMessage())
          .contains("table public.op_super is owned by the superuser " + db.user())
          .contains("give it an owner role first");
    }
  }

  private static Cli.Result asOperator(
      Map<String, String> env, TestPostgres db, Path config, String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(
        List.of("--config", config.toString(), "--user", ROLE, "--password-env", "OP_PASSWORD"));
    return Cli.run(env, all.toArray(String[]::new));
  }

  private static JsonNode check(JsonNode doctor, String name) {
    for (JsonNode c : doctor.get("checks")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    return null;
  }
}
