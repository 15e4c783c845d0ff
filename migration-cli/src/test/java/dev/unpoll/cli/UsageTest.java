package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.migration.Durations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Usage errors: exit 2 and one clear line, before any connection is attempted. */
class UsageTest {
  @Test
  void helpDocumentsTheExitCodes() {
    Cli.Result r = Cli.run(Map.of(), "--help");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("Exit codes:", "3", "a check or gate failed", "usage error");
    assertThat(r.out())
        .contains("capture", "shadow", "dual", "cutover", "retire", "rollback", "verify");
  }

  @Test
  void noCommandIsAUsageError() {
    Cli.Result r = Cli.run(Map.of());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("a command is required");
  }

  @Test
  void unknownOptionIsAUsageError() {
    Cli.Result r = Cli.run(Map.of(), "doctor", "--frobnicate");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("Unknown option").doesNotContain("\tat ");
  }

  @Test
  void hostileTableNameIsRejectedBeforeConnecting() {
    Cli.Result r =
        Cli.run(
            Map.of(),
            "analyze",
            "--table",
            "x; DROP TABLE users",
            "--db",
            "jdbc:postgresql://127.0.0.1:1/none");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err().lines().count()).isEqualTo(1);
    assertThat(r.err()).contains("not a valid table name");
  }

  @Test
  void missingDatabaseSaysWhichOptionToPass() {
    Cli.Result r = Cli.run(Map.of(), "doctor");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--db jdbc:postgresql://");
  }

  @Test
  void forceWithoutReasonIsAUsageError() {
    Cli.Result r =
        Cli.run(Map.of(), "shadow", "--table", "t", "--force", "--db", "jdbc:postgresql://h/d");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--force needs --reason");
  }

  @Test
  void aSlotNameTheRelayWouldRefuseIsAUsageErrorBeforeAnythingIsCreated() {
    Cli.Result r =
        Cli.run(
            Map.of(),
            "capture",
            "--table",
            "t",
            "--slot",
            "s".repeat(43),
            "--db",
            "jdbc:postgresql://nowhere.invalid/d");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--slot: '" + "s".repeat(43) + "'", "1 to 42 characters");
  }

  @Test
  void badDurationIsAUsageError() {
    Cli.Result r = Cli.run(Map.of(), "verify", "--table", "t", "--since", "fifteen");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("not a duration");
  }

  @Test
  void jsonModeAlsoPrintsTheErrorAsJson() {
    Cli.Result r = Cli.run(Map.of(), "status", "--json", "--password-env", "NOPE_NOT_SET");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.json().get("exitCode").asInt()).isEqualTo(2);
    assertThat(r.json().get("error").asText()).contains("NOPE_NOT_SET is not set");
  }

  @Test
  void configFileVariablesComeFromTheEnvironmentAndMissingOnesAreNamed(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("unpoll.yaml");
    Files.writeString(
        file,
        "source:\n  jdbc-url: ${DB_URL}\n  password: ${DB_PW}\nkafka:\n  bootstrap-servers: ${K:-localhost:1}\n");
    Cli.Result r =
        Cli.run(Map.of("DB_URL", "jdbc:postgresql://h/d"), "status", "--config", file.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err())
        .contains("source.password", "set the environment variable DB_PW")
        .doesNotContain("DB_URL");
  }

  /** The command reads the file with the relay's reader: what the relay refuses, it refuses. */
  @Test
  void aSettingTheRelayWouldRefuseIsRefusedWithTheRelaysMessage(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("unpoll.yaml");
    Files.writeString(
        file,
        "source:\n  slot: Orders\n  publication: \"Pub Quoted\"\ntables:\n"
            + "  - table: public.q\n    topic: q\n    backlog: true\n");
    Cli.Result r = Cli.run(Map.of(), "status", "--config", file.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err())
        .contains("invalid configuration (3 problems)")
        .contains("source.slot: \"Orders\"; use 1 to 42 characters")
        .contains("source.publication: \"Pub Quoted\"")
        .contains("tables[0].backlog: true; set status.column and status.pending");
  }

  @Test
  void missingConfigFileIsAUsageError(@TempDir Path dir) {
    Cli.Result r = Cli.run(Map.of(), "status", "--config", dir.resolve("nope.yaml").toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("does not exist");
  }

  @Test
  void durationsParseAndFormat() {
    assertThat(Durations.parse("15m")).isEqualTo(Duration.ofMinutes(15));
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.format(Duration.ofSeconds(3725))).isEqualTo("1h2m5s");
  }

  @Test
  void parameterErrorsInJsonModeAreJsonToo() {
    Cli.Result r = Cli.run(Map.of(), "verify", "--json", "--table");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.json().get("exitCode").asInt()).isEqualTo(2);
    assertThat(r.json().get("error").asText()).contains("--table");
  }
}
