package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's security part, in the fault harness. Every harness run already has the relay run as
 * the role {@code unpoll grants} prints (not a superuser), a SASL secret in the relay's producer
 * settings and a marker in every payload, and checks the processes' logs for the passwords, the
 * secret and the marker ({@link Harness#settleAndCheck}). Here the relay and the consumer log at
 * DEBUG through a relay kill and restart; and hostile identifiers go to the CLI.
 *
 * <p>One logger stays at INFO: Debezium's {@code AsyncEmbeddedEngine} logs its whole configuration,
 * the database password in clear, at DEBUG. The CLI's logback.xml pins it, the relay warns when it
 * is at DEBUG (docs/security.md); this run pins it the same way, as the shipped CLI does.
 */
@ExtendWith(UnpollStackExtension.class)
class SecurityIT {
  static final List<String> DEBUG =
      List.of(
          "-Dorg.slf4j.simpleLogger.defaultLogLevel=debug",
          "-Dorg.slf4j.simpleLogger.log.dev.unpoll=debug",
          "-Dorg.slf4j.simpleLogger.log.io.debezium.embedded.async.AsyncEmbeddedEngine=info");

  @Test
  void atDebugNoPasswordNoSaslSecretAndNoPayloadReachTheLogsThroughAKill(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "security")) {
      h.relayJvmOptions.addAll(DEBUG);
      h.consumerJvmOptions.addAll(DEBUG);
      h.startRelay();
      h.startConsumer();
      h.load.start();
      long point = h.nextPoint(200, 1_000);
      await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
      h.killRelay();
      h.startRelay();
      // the slot can turn active a moment before the walsender shows in pg_stat_replication
      // (seen with the module's two forks): wait for a streaming walsender, then check its role
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(streamingRole(h))
                      .as("the relay streams as its own role")
                      .isEqualTo(h.relayRole));
      long more = h.nextPoint(200, 1_000);
      await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= more);
      h.settleAndCheck("security: DEBUG logs through a relay kill"); // checks the logs too

      // the check above can fail: the logs are at DEBUG and large
      assertThat(h.relayLog()).contains(" DEBUG ");
      assertThat(Files.readString(dir.resolve("consumer.log"))).contains(" DEBUG ");
      assertThat(Files.size(dir.resolve("relay.log"))).isGreaterThan(100_000);
    }
  }

  @Test
  void hostileIdentifiersAreRefusedOrQuotedAndNoOtherSqlRuns(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "hostile")) {
      try (Connection c = h.db.connect();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE fi.canary (id int)");
      }
      String drop = "DROP TABLE fi.canary";
      List<List<String>> attempts =
          List.of(
              List.of("grants", "--config", "relay.yaml", "--role", "r\"; " + drop + "; --"),
              List.of("grants", "--config", "relay.yaml", "--role", "r'; " + drop + "; --"),
              List.of("analyze", "--table", "fi.jobs; " + drop),
              List.of("analyze", "--table", "fi.\"jobs\"\"; " + drop + "; --\""),
              List.of("analyze", "--table", "fi.jobs' OR '1'='1"),
              List.of("doctor", "--config", "relay.yaml", "--slot", "x'; " + drop + "; --"),
              List.of("status", "--config", "relay.yaml", "--slot", "s\"; " + drop),
              List.of(
                  "capture",
                  "--config",
                  "relay.yaml",
                  "--table",
                  "fi.jobs",
                  "--publication",
                  "p\"; " + drop));
      for (List<String> attempt : attempts) {
        String[] args =
            attempt.stream()
                .map(a -> a.equals("relay.yaml") ? dir.resolve("relay.yaml").toString() : a)
                .toArray(String[]::new);
        String[] withDb =
            attempt.get(0).equals("analyze")
                ? concat(
                    args,
                    "--db",
                    h.db.jdbcUrl(),
                    "--user",
                    h.db.user(),
                    "--password-env",
                    LedgerConsumer.PASSWORD_VARIABLE)
                : args;
        String out = h.unpollText(withDb);
        Harness.LOG.info("hostile {}: {}", attempt, out.lines().findFirst().orElse(""));
        assertThat(out)
            .as("%s", attempt)
            .doesNotContain("\tat dev.unpoll")
            .doesNotContain("Unknown option");
        if (attempt.get(0).equals("grants")) {
          // quoted, not refused: the printed SQL, run as the superuser, creates that role
          try (Connection c = h.db.connect();
              Statement s = c.createStatement()) {
            s.execute(out);
          }
          assertThat(roleExists(h, attempt.get(4))).isTrue();
        }
        assertThat(canaryAlive(h)).as("after %s", attempt).isTrue();
      }
    }
  }

  private static String streamingRole(Harness h) throws Exception {
    try (Connection c = h.db.connect();
        java.sql.PreparedStatement ps =
            c.prepareStatement(
                "SELECT r.usename FROM pg_stat_replication r JOIN pg_replication_slots s"
                    + " ON s.active_pid = r.pid WHERE s.slot_name = ?")) {
      ps.setString(1, h.slot);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static boolean roleExists(Harness h, String role) throws Exception {
    try (Connection c = h.db.connect();
        java.sql.PreparedStatement ps =
            c.prepareStatement("SELECT count(*) FROM pg_roles WHERE rolname = ?")) {
      ps.setString(1, role);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) == 1;
      }
    }
  }

  private static boolean canaryAlive(Harness h) throws Exception {
    try (Connection c = h.db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT to_regclass('fi.canary') IS NOT NULL")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }
}
