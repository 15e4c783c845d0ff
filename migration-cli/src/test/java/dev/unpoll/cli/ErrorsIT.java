package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Bad input gets one clear line and its exit code, no stack trace. */
@ExtendWith(UnpollStackExtension.class)
class ErrorsIT {
  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("cli_errors_it");
    Fixtures.sql(db, "CREATE TABLE victim (id int PRIMARY KEY)");
  }

  @Test
  void wrongPasswordIsOneLineExit1AndNeverEchoesThePassword() {
    String secret = "s3cr3t-Wr0ng-Pa55";
    Cli.Result r =
        Cli.run(
            Map.of("MY_PW", secret),
            "doctor",
            "--db",
            db.jdbcUrl(),
            "--user",
            db.user(),
            "--password-env",
            "MY_PW");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.err().lines().count()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).contains("rejected user 'postgres'", "password authentication failed");
    assertThat(r.err() + r.out()).doesNotContain(secret).doesNotContain("\tat ");
  }

  @Test
  void verboseShowsTheStackTrace() {
    Cli.Result r =
        Cli.run(
            Map.of("PGPASSWORD", "nope"),
            "doctor",
            "--verbose",
            "--db",
            db.jdbcUrl(),
            "--user",
            db.user());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("rejected user", "\tat ", "PSQLException");
  }

  @Test
  void unreachableServerIsOneLineExit1() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Cli.Result r =
        Cli.run(
            Map.of("PGPASSWORD", "x"),
            "status",
            "--db",
            "jdbc:postgresql://127.0.0.1:" + port + "/orders?password=leaky",
            "--user",
            "u");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err().lines().count()).isEqualTo(1);
    assertThat(r.err()).contains("cannot reach PostgreSQL at jdbc:postgresql://127.0.0.1:" + port);
    assertThat(r.err()).contains("password=****").doesNotContain("leaky");
  }

  @Test
  void missingTableIsOneLineExit1() {
    Cli.Result r = Cli.run(db, null, "analyze", "--table", "public.no_such_table");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err().lines().count()).isEqualTo(1);
    assertThat(r.err()).contains("table public.no_such_table does not exist");
  }

  @Test
  void quotedHostileNameIsTreatedAsANameNotAsSql() {
    Cli.Result r = Cli.run(db, null, "analyze", "--table", "\"victim\"\"; DROP TABLE victim; --\"");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("does not exist");
    assertThat(Fixtures.number(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'victim'"))
        .isEqualTo(1);
  }

  @Test
  void unquotedHostileNameIsAUsageError() {
    Cli.Result r =
        Cli.run(db, null, "verify", "--table", "victim;DROP TABLE victim", "--topic", "t");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("not a valid table name");
  }

  @Test
  void aTableWithAHostileButValidNameIsAnalyzedSafely() {
    Fixtures.sql(
        db,
        "CREATE TABLE \"Odd \"\"Name\"\"; DROP TABLE victim\" (id int PRIMARY KEY, status text,"
            + " created_at timestamptz DEFAULT now())",
        "INSERT INTO \"Odd \"\"Name\"\"; DROP TABLE victim\" (id, status) VALUES (1, 'NEW'), (2, 'DONE')");
    Cli.Result r =
        Cli.run(
            db, null, "analyze", "--json", "--table", "\"Odd \"\"Name\"\"; DROP TABLE victim\"");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.json().get("rows").asLong()).isEqualTo(2);
    assertThat(r.json().at("/roles/status/pending/0").asText()).isEqualTo("NEW");
    assertThat(Fixtures.number(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'victim'"))
        .isEqualTo(1);
  }

  @Test
  void unreachableKafkaIsOneLineExit1() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Cli.Result r = Cli.run(Map.of(), "tail", "--topic", "x", "--kafka", "127.0.0.1:" + port);
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("unpoll tail: cannot reach Kafka at 127.0.0.1:" + port);
    assertThat(r.err()).doesNotContain("\tat ");
  }
}
