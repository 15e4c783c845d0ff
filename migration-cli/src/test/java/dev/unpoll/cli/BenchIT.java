package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.testkit.ChildJvm;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unpoll bench}, shortened: the poller against the event path on servers it starts, and on
 * "your own" servers (the test stack's PostgreSQL and Kafka, through {@code --db} and {@code
 * --kafka}): the same table as docs/benchmarks.md's L1, the results file and plot it writes, and
 * that on your servers it refuses what it must not touch and leaves nothing behind, also when it
 * fails mid-run. Its figures mean nothing here (a 2 s window on a busy test machine); that they
 * exist and are whole does.
 */
@ExtendWith(UnpollStackExtension.class)
class BenchIT {
  private static final String PASSWORD = "bench-it-Secret-7";

  static TestPostgres server;
  static TestKafka kafka;

  @TempDir Path dir;

  @BeforeAll
  static void servers(TestPostgres s, TestKafka k) {
    server = s;
    kafka = k;
    // shorter than the defaults (5 s warm-up, 2 s pause): the runs below only prove the harness
    System.setProperty("warmup.seconds", "1");
    System.setProperty("pause.ms", "500");
  }

  @AfterAll
  static void defaults() {
    System.clearProperty("warmup.seconds");
    System.clearProperty("pause.ms");
  }

  @Test
  void comparesThePollerWithTheEventPathAndWritesTheResultsAndThePlot() throws Exception {
    Path out = dir.resolve("bench");

    Cli.Result r =
        Cli.run(Map.of(), "bench", "--rate", "50", "--seconds", "2", "--out", out.toString());

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains("| `L1.p99.poller_1s.50rps` |")
        .contains("| `L1.p99.poller_100ms.50rps` |")
        .contains("wrote " + out.resolve("results.json"));
    JsonNode results = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    List<String> ids = new ArrayList<>();
    results.path("measures").forEach(m -> ids.add(m.path("id").asText()));
    assertThat(ids).contains("L1", "L1.p99.poller_1s.50rps", "L1.p50.poller_100ms.50rps");
    assertThat(results.path("settings").path("L1D1").path("servers").asText())
        .isEqualTo("embedded");
    assertThat(ImageIO.read(out.resolve("latency.png").toFile())).isNotNull();
  }

  @Test
  void runsOnYourOwnServersAndLeavesNothingBehind() throws Exception {
    TestPostgres db = server.createDatabase("bench_own_it");
    Path out = dir.resolve("own");

    Cli.Result r =
        Cli.run(db, kafka, "bench", "--rate", "50", "--seconds", "2", "--out", out.toString());

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains("on PostgreSQL " + db.host() + ":" + db.port() + "/bench_own_it as " + db.user())
        .contains("Kafka " + kafka.bootstrapServers())
        .contains("includes the network to your servers")
        .contains("| `L1.p99.poller_1s.50rps` |")
        .contains("| `L1.p99.poller_100ms.50rps` |")
        .contains("removed what it created; wrote " + out.resolve("results.json"))
        .doesNotContain(db.password());
    JsonNode results = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    JsonNode settings = results.path("settings").path("L1D1");
    assertThat(settings.path("servers").asText()).isEqualTo("external");
    assertThat(settings.path("server_version").asText()).startsWith("17");
    assertThat(settings.path("database").asText()).endsWith("/bench_own_it");
    List<String> ids = new ArrayList<>();
    results.path("measures").forEach(m -> ids.add(m.path("id").asText()));
    assertThat(ids).contains("L1", "L1.p99.poller_1s.50rps", "L1.p50.poller_100ms.50rps");
    assertThat(ImageIO.read(out.resolve("latency.png").toFile())).isNotNull();
    assertNothingLeft(db);
  }

  @Test
  void refusesASchemaOfYoursAndCreatesNothing() throws Exception {
    TestPostgres db = server.createDatabase("bench_taken_it");
    Fixtures.sql(
        db,
        "CREATE SCHEMA shop",
        "CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer text)",
        "INSERT INTO shop.orders VALUES (1, 'theirs')",
        // a relay of theirs captures this database: its heartbeat table is theirs too
        "CREATE TABLE public.unpoll_relay_heartbeat (slot text PRIMARY KEY, beat_at timestamptz)",
        "INSERT INTO public.unpoll_relay_heartbeat VALUES ('theirs', now())");

    Cli.Result r = Cli.run(db, kafka, "bench", "--out", dir.resolve("taken").toString());

    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    assertThat(r.err())
        .contains("unpoll bench will not run on PostgreSQL")
        .contains("(nothing was created)")
        .contains("already has a schema shop")
        .contains("already has one (a relay of yours captures this database)")
        .contains("CREATE DATABASE unpoll_bench");
    assertThat(Fixtures.text(db, "SELECT customer FROM shop.orders")).isEqualTo("theirs");
    assertThat(Fixtures.text(db, "SELECT string_agg(slot, ',') FROM public.unpoll_relay_heartbeat"))
        .isEqualTo("theirs");
    assertNothingLeft(db, "shop", "unpoll_relay_heartbeat");

    // a schema an aborted run left (its comment names the run): reported with its removal
    Fixtures.sql(db, "COMMENT ON SCHEMA shop IS 'unpoll bench 0a1b2c'");
    Cli.Result leftover = Cli.run(db, kafka, "bench", "--out", dir.resolve("taken").toString());

    assertThat(leftover.exit()).as(leftover.toString()).isEqualTo(3);
    assertThat(leftover.err())
        .contains("an aborted unpoll bench run (or one still running) left its objects")
        .contains("DROP SCHEMA \"shop\" CASCADE;")
        .contains("DROP TABLE IF EXISTS unpoll_relay_offsets_unpoll_bench_0a1b2c")
        .contains("consumer group unpoll-bench-0a1b2c")
        .doesNotContain("already has a schema shop")
        // its heartbeat row names a slot of a relay of theirs: the table is theirs, not a leftover
        .contains("already has one (a relay of yours captures this database)")
        .doesNotContain("DROP TABLE IF EXISTS public.unpoll_relay_heartbeat");
    assertThat(Fixtures.text(db, "SELECT customer FROM shop.orders")).isEqualTo("theirs");
    assertNothingLeft(db, "shop", "unpoll_relay_heartbeat");
  }

  @Test
  void refusesAUserWithoutReplicationBeforeCreatingAnything() throws Exception {
    TestPostgres db = server.createDatabase("bench_norepl_it");
    Fixtures.sql(
        db,
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_norepl') THEN"
            + " CREATE ROLE bench_norepl LOGIN NOREPLICATION; END IF; END $$",
        "ALTER ROLE bench_norepl PASSWORD '" + PASSWORD + "'",
        "GRANT CREATE ON DATABASE bench_norepl_it TO bench_norepl",
        "GRANT CREATE ON SCHEMA public TO bench_norepl");

    Cli.Result r =
        Cli.run(
            Map.of("BENCH_PW", PASSWORD),
            "bench",
            "--db",
            db.jdbcUrl(),
            "--user",
            "bench_norepl",
            "--password-env",
            "BENCH_PW",
            "--kafka",
            kafka.bootstrapServers(),
            "--out",
            dir.resolve("norepl").toString());

    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    assertThat(r.err())
        .contains("unpoll bench cannot run on PostgreSQL")
        .contains("(nothing was created)")
        .contains("replication-privilege: the user lacks the REPLICATION attribute")
        .contains("ALTER ROLE \"bench_norepl\" REPLICATION;")
        .doesNotContain(PASSWORD);
    assertNothingLeft(db);
  }

  @Test
  void removesWhatItCreatedWhenARunFailsMidway() throws Exception {
    TestPostgres db = server.createDatabase("bench_fail_it");
    Path out = dir.resolve("fail");
    CompletableFuture<Cli.Result> run =
        CompletableFuture.supplyAsync(
            () ->
                Cli.run(
                    db, kafka, "bench", "--rate", "50", "--seconds", "2", "--out", out.toString()));

    // the relay streams (its slot is active): from now on the run has all there is to remove
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                run.isDone()
                    || Fixtures.number(
                            db,
                            "SELECT count(*) FROM pg_replication_slots WHERE active"
                                + " AND slot_name LIKE 'unpoll\\_bench\\_%'")
                        == 1);
    assertThat(run).isNotDone();
    try (Connection lock = db.connect();
        Statement s = lock.createStatement()) {
      lock.setAutoCommit(false);
      s.execute("LOCK TABLE shop.orders IN ACCESS EXCLUSIVE MODE");
      // the writer waits for the lock: cancel its statement, as a statement_timeout would
      String writerWaiting =
          " FROM pg_stat_activity WHERE datname = 'bench_fail_it'"
              + " AND application_name = 'relay-bench-writer' AND wait_event_type = 'Lock'";
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> Fixtures.number(db, "SELECT count(*)" + writerWaiting) == 1);
      Fixtures.sql(db, "SELECT pg_cancel_backend(pid)" + writerWaiting);
      // the run fails and cleans up: its DROP SCHEMA shop waits for this lock
      await()
          .atMost(Duration.ofSeconds(90))
          .until(
              () ->
                  run.isDone()
                      || Fixtures.number(
                              db,
                              "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bench_fail_it'"
                                  + " AND application_name = 'unpoll-bench'"
                                  + " AND wait_event_type = 'Lock' AND query LIKE 'DROP SCHEMA%'")
                          == 1);
      lock.rollback();
    }
    Cli.Result r = run.get(120, TimeUnit.SECONDS);

    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("canceling statement due to user request");
    assertThat(r.out()).doesNotContain("could not remove");
    assertNothingLeft(db);
  }

  @Test
  void removesWhatItCreatedWhenItIsInterrupted() throws Exception {
    TestPostgres db = server.createDatabase("bench_term_it");
    Path log = dir.resolve("bench-term.log");
    // arms of a minute: the signal always lands while the run still holds everything it created
    try (ChildJvm bench = startBench(db, "60", log)) {
      awaitStreaming(db, bench, log);

      int exit = bench.stop(Duration.ofSeconds(90)); // SIGTERM, as Ctrl-C or a stopped job

      assertThat(exit).as(Files.readString(log)).isNotZero();
    }
    try {
      assertNothingLeft(db);
    } catch (AssertionError e) {
      throw new AssertionError(
          e.getMessage() + "\n--- the run's output:\n" + Files.readString(log), e);
    }
  }

  @Test
  void aRunKilledWithSigkillIsReportedWithStatementsThatRemoveAllItLeft() throws Exception {
    TestPostgres db = server.createDatabase("bench_kill_it");
    Path log = dir.resolve("bench-kill.log");
    // each arm would take a minute: the run is killed long before it could clean up
    try (ChildJvm bench = startBench(db, "60", log)) {
      awaitStreaming(db, bench, log);
      bench.kill(); // no shutdown hook, no finally
    }
    // the dead relay's walsender notices the closed connection and lets the slot go
    await().atMost(Duration.ofSeconds(60)).until(() -> activeBenchSlots(db) == 0);

    Cli.Result r = Cli.run(db, kafka, "bench", "--out", dir.resolve("after-kill").toString());

    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    String err = r.err();
    assertThat(err)
        .contains("an aborted unpoll bench run (or one still running) left its objects")
        .contains("(nothing was created)")
        .contains("pg_drop_replication_slot('unpoll_bench_")
        .contains("DROP PUBLICATION")
        .contains("DROP SCHEMA \"shop\" CASCADE;")
        .contains("DROP TABLE IF EXISTS public.unpoll_relay_heartbeat;")
        // the heartbeat table is the aborted run's, not a relay of the user's
        .doesNotContain("a relay of yours");

    // the statements it printed, run as printed, remove all of it
    Matcher m =
        Pattern.compile(
                "remove them with: (.*) and on Kafka, if present: topics ([\\w.-]+) and"
                    + " ([\\w.-]+), consumer group ([\\w.-]+)")
            .matcher(err.replace('\n', ' '));
    assertThat(m.find()).as(err).isTrue();
    Fixtures.sql(db, m.group(1).split(";\\s*"));
    List<String> topics = new ArrayList<>(List.of(m.group(2), m.group(3)));
    topics.retainAll(kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS));
    kafka.admin().deleteTopics(topics).all().get(30, TimeUnit.SECONDS);
    boolean group =
        kafka.admin().listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream()
            .anyMatch(g -> g.groupId().equals(m.group(4)));
    if (group) {
      kafka.admin().deleteConsumerGroups(List.of(m.group(4))).all().get(30, TimeUnit.SECONDS);
    }
    assertNothingLeft(db);
  }

  /** {@code unpoll bench} on "your own" servers, in its own JVM, each arm {@code seconds} long. */
  private ChildJvm startBench(TestPostgres db, String seconds, Path log) throws Exception {
    return ChildJvm.start(
        "unpoll bench",
        Unpoll.class,
        List.of("-Xmx512m", "-Dwarmup.seconds=1", "-Dpause.ms=500"),
        List.of(
            "bench",
            "--rate",
            "50",
            "--seconds",
            seconds,
            "--out",
            dir.resolve("child").toString(),
            "--db",
            db.jdbcUrl(),
            "--user",
            db.user(),
            "--kafka",
            kafka.bootstrapServers()),
        Map.of("PGPASSWORD", db.password()),
        log);
  }

  /** Waits until the run's relay streams (its slot active): it has created all it creates. */
  private static void awaitStreaming(TestPostgres db, ChildJvm bench, Path log) throws Exception {
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> !bench.isAlive() || activeBenchSlots(db) == 1);
    assertThat(bench.isAlive()).as(Files.readString(log)).isTrue();
  }

  /** Replication slots of bench runs that a walsender streams from now. */
  private static long activeBenchSlots(TestPostgres db) {
    return Fixtures.number(
        db,
        "SELECT count(*) FROM pg_replication_slots WHERE active"
            + " AND slot_name LIKE 'unpoll\\_bench\\_%'");
  }

  @Test
  void refusesTheOptionsItCannotHonourClearly() {
    Cli.Result json = Cli.run(Map.of(), "bench", "--json");
    assertThat(json.exit()).isEqualTo(2);
    assertThat(json.err()).contains("unpoll bench does not print JSON");

    Cli.Result user = Cli.run(Map.of(), "bench", "--user", "app");
    assertThat(user.exit()).isEqualTo(2);
    assertThat(user.err()).contains("--user and --password-env go with --db and --kafka");

    Cli.Result cost =
        Cli.run(
            Map.of(),
            "bench",
            "--db",
            "jdbc:postgresql://db.example/orders",
            "--kafka",
            "kafka.example:9092",
            "--db-cost");
    assertThat(cost.exit()).isEqualTo(2);
    assertThat(cost.err()).contains("D1 runs only on the servers unpoll bench starts");
  }

  /**
   * No slot, publication, schema, relay table, topic or consumer group of a bench run; {@code
   * theirs}: schemas and tables the test made as the user's, left alone.
   */
  private static void assertNothingLeft(TestPostgres db, String... theirs) throws Exception {
    assertThat(
            Fixtures.number(
                db,
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'unpoll\\_bench\\_%'"))
        .isZero();
    assertThat(
            Fixtures.number(
                db, "SELECT count(*) FROM pg_publication WHERE pubname LIKE 'unpoll\\_bench\\_%'"))
        .isZero();
    List<String> schemas = new ArrayList<>(List.of("shop", "shipping"));
    schemas.removeAll(List.of(theirs));
    for (String schema : schemas) {
      assertThat(
              Fixtures.number(
                  db, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'"))
          .as("schema " + schema)
          .isZero();
    }
    assertThat(
            Fixtures.number(
                db,
                "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'unpoll\\_relay\\_%'"
                    + " AND NOT tablename = ANY ('{"
                    + String.join(",", theirs)
                    + "}')"))
        .isZero();
    assertThat(kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS))
        .noneMatch(t -> t.startsWith("unpoll-bench-"));
    assertThat(kafka.admin().listConsumerGroups().all().get(30, TimeUnit.SECONDS))
        .extracting(ConsumerGroupListing::groupId)
        .noneMatch(g -> g.startsWith("unpoll-bench-"));
  }
}
