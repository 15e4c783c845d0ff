package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.TableAnalysis;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.migration.engine.MotionObserver;
import dev.unpoll.migration.engine.TablePlan;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: analyze learns how status values move over time. On a table whose names say nothing
 * ({@code s smallint}: 3 new, 5 taken, 7 done, 4 failed; bookkeeping {@code w}, {@code t}, {@code
 * n}) and without pg_stat_statements, only the motion of the rows tells the roles. Samples are
 * taken explicitly between the poller's steps (engine), or ordered by table locks (CLI): no sleep,
 * no timing.
 */
@ExtendWith(UnpollStackExtension.class)
class AnalyzeMotionIT {
  static TestPostgres server;
  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres postgres) {
    server = postgres;
    db = postgres.createDatabase("cli_analyze_motion_it");
  }

  /** A queue whose names say nothing: handled rows (7), a few failed (4), new ones (3). */
  static void queue(String name) {
    Fixtures.sql(
        db,
        "CREATE TABLE "
            + name
            + " (id bigserial PRIMARY KEY, x jsonb NOT NULL, s smallint NOT NULL DEFAULT 3,"
            + " w text, t timestamptz, n int NOT NULL DEFAULT 0)",
        "INSERT INTO "
            + name
            + " (x, s, w, t, n) SELECT jsonb_build_object('k', g), 7, 'w0',"
            + " now() - interval '1 day', 1 FROM generate_series(1, 60) g",
        "INSERT INTO "
            + name
            + " (x, s, w, t, n) SELECT jsonb_build_object('k', g), 4, 'w0',"
            + " now() - interval '1 day', 3 FROM generate_series(1, 3) g",
        "INSERT INTO "
            + name
            + " (x) SELECT jsonb_build_object('k', g) FROM generate_series(1, 10) g");
  }

  static Migrations migrations() {
    return Migrations.builder()
        .jdbcUrl(db.jdbcUrl())
        .user(db.user())
        .password(db.password())
        .build();
  }

  @Test
  void theMotionOfTheRowsTellsTheStatusColumnItsRolesAndTheBookkeeping() {
    queue("q2");
    TableName q2 = Migrations.table("q2");
    Migrations m = migrations();
    // the names and the data alone say nothing
    assertThat(m.analyze(q2).roles().status()).isEmpty();

    TablePlan plan;
    try (MotionObserver o = m.observe(q2)) {
      o.sample();
      // the poller takes six new rows; the application inserts four
      Fixtures.sql(
          db,
          "UPDATE q2 SET s = 5, w = 'w1', t = now(), n = n + 1"
              + " WHERE id IN (SELECT id FROM q2 WHERE s = 3 ORDER BY id LIMIT 6)",
          "INSERT INTO q2 (x) SELECT jsonb_build_object('k', g) FROM generate_series(1, 4) g");
      o.sample();
      // five are handled, one fails; the failed rows of before are re-queued
      Fixtures.sql(
          db,
          "UPDATE q2 SET s = 7 WHERE id IN (SELECT id FROM q2 WHERE s = 5 ORDER BY id LIMIT 5)",
          "UPDATE q2 SET s = 4 WHERE s = 5",
          "UPDATE q2 SET s = 3, w = NULL WHERE s = 4 AND n = 3");
      o.sample();
      assertThat(o.samples()).isEqualTo(3);
      plan = o.infer(null);
    }

    TableAnalysis a = plan.analysis();
    TableAnalysis.StatusColumn st = a.roles().status().orElseThrow();
    assertThat(st.column()).isEqualTo("s");
    assertThat(st.pending()).containsExactly("3");
    assertThat(st.inProgress()).containsExactly("5");
    assertThat(st.done()).containsExactly("7");
    assertThat(st.failed()).containsExactly("4");
    assertThat(a.roles().bookkeeping()).containsExactly("s", "w", "t", "n");
    assertThat(a.roles().payload()).contains("x");

    TableAnalysis.Motion motion = a.motion().orElseThrow();
    assertThat(motion.samples()).isEqualTo(3);
    assertThat(motion.column()).contains("s");
    assertThat(motion.inserted()).containsEntry("3", 4L);
    assertThat(motion.moves())
        .containsExactlyInAnyOrder(
            new TableAnalysis.Motion.Move("3", "5", 6),
            new TableAnalysis.Motion.Move("5", "7", 5),
            new TableAnalysis.Motion.Move("5", "4", 1),
            new TableAnalysis.Motion.Move("4", "3", 3));
    assertThat(motion.changedWithStatus())
        .containsEntry("w", 9L)
        .containsEntry("t", 6L)
        .containsEntry("n", 6L)
        .doesNotContainKey("x");

    // each inference names the evidence it rests on
    assertThat(String.join("\n", a.notes()))
        .contains("evidence (observed): observed 3 samples")
        .contains("4 rows inserted with s 3", "6 rows 3→5", "5 rows 5→7", "1 row 5→4")
        .contains("3 pending (4 inserted rows had it)")
        .contains("5 in progress (6 rows reached it, 6 left it)")
        .contains("7 done (5 rows reached it, none left it)")
        .contains("4 failed (1 row reached it, not from 3; 3 went back to 3: re-queued)")
        .contains("bookkeeping columns [w, t, n]: they changed with s")
        .contains("status column s: its values changed as rows moved (observed)");

    // plan writes the observed roles
    assertThat(plan.ready()).isTrue();
    assertThat(plan.pendingValues()).containsExactly("3");
    assertThat(plan.doneValues()).containsExactly("7");
    assertThat(plan.inProgressValues()).containsExactly("5");
    assertThat(plan.failedValues()).containsExactly("4");
    assertThat(String.join("\n", plan.mappingYaml()))
        .contains("bookkeeping-columns: [s, w, t, 'n']", "column: s", "in-progress: ['5']");
  }

  @Test
  void aTableWhereNothingMovesSaysSoAndInfersNothingFromIt() {
    queue("q_still");
    TableName t = Migrations.table("q_still");
    Migrations m = migrations();
    TableAnalysis before = m.analyze(t);
    TableAnalysis after;
    try (MotionObserver o = m.observe(t)) {
      o.sample();
      o.sample();
      after = o.infer(null).analysis();
    }
    assertThat(after.motion().orElseThrow().moved()).isFalse();
    assertThat(after.motion().orElseThrow().column()).isEmpty();
    assertThat(after.roles()).isEqualTo(before.roles());
    assertThat(String.join("\n", after.notes()))
        .contains("no movement observed, nothing inferred from it");
  }

  /**
   * A poller working through an old backlog moves rows far from the newest: with an index on the
   * status column, the samples also read the rows in a status rows leave (and only those, with the
   * newest: never the whole table).
   */
  @Test
  void aBacklogFarFromTheNewestRowsIsWatchedThroughTheStatusIndex() {
    Fixtures.sql(
        db,
        "CREATE TABLE q_backlog (id bigserial PRIMARY KEY, status text NOT NULL, x jsonb)",
        "CREATE INDEX q_backlog_status ON q_backlog (status)",
        "INSERT INTO q_backlog (status) SELECT 'a' FROM generate_series(1, 50)",
        "INSERT INTO q_backlog (status) SELECT 'c' FROM generate_series(1, 1500)");
    TableName t = Migrations.table("q_backlog");
    TableAnalysis a;
    try (MotionObserver o = migrations().observe(t)) {
      o.sample();
      o.sample(); // reads the rows in 'a' too, now that the first analysis knows the column
      Fixtures.sql(db, "UPDATE q_backlog SET status = 'b' WHERE id <= 10");
      o.sample();
      Fixtures.sql(db, "UPDATE q_backlog SET status = 'c' WHERE id <= 8");
      o.sample();
      a = o.infer(null).analysis();
    }
    TableAnalysis.Motion motion = a.motion().orElseThrow();
    assertThat(motion.moves())
        .containsExactlyInAnyOrder(
            new TableAnalysis.Motion.Move("a", "b", 10),
            new TableAnalysis.Motion.Move("b", "c", 8));
    assertThat(motion.rowsWatched()).isEqualTo(MotionObserver.ROWS_PER_PART + 50);
    TableAnalysis.StatusColumn st = a.roles().status().orElseThrow();
    assertThat(st.pending()).containsExactly("a");
    assertThat(st.inProgress()).containsExactly("b");
    assertThat(st.done()).containsExactly("c");
    assertThat(String.join("\n", a.notes()))
        .contains("a pending (rows left it, none reached it; no row was inserted)")
        .contains("up to 1000 with status in [a]");
  }

  /**
   * A window that only sees rows taken (3→5) must not call 5 done because they stayed: 7 holds far
   * more rows, so 5 stays in progress (the side where no row is lost) and a note says why.
   */
  @Test
  void aWindowTooShortToSeeRowsLeaveAValueDoesNotCallItDone() {
    queue("q_short");
    TableName t = Migrations.table("q_short");
    TableAnalysis a;
    try (MotionObserver o = migrations().observe(t)) {
      o.sample();
      Fixtures.sql(
          db,
          "UPDATE q_short SET s = 5, w = 'w1' WHERE id IN (SELECT id FROM q_short WHERE s = 3"
              + " ORDER BY id LIMIT 3)",
          "INSERT INTO q_short (x) VALUES ('{}')");
      o.sample();
      a = o.infer(null).analysis();
    }
    TableAnalysis.StatusColumn st = a.roles().status().orElseThrow();
    assertThat(st.pending()).containsExactly("3");
    assertThat(st.done()).doesNotContain("5");
    assertThat(st.inProgress()).contains("5");
    assertThat(String.join("\n", a.notes()))
        .contains(
            "status value 5: rows reached it and stayed while observed, but 7 holds more rows");
  }

  /**
   * Where the motion and the rows' age disagree, the note says so: here the failed rows (4) are the
   * newest, so by age 4 looks in progress; the rows show it is reached rarely and left back to
   * pending.
   */
  @Test
  void whereTheMotionAndTheRowsAgeDisagreeANoteSaysSo() {
    Fixtures.sql(
        db,
        "CREATE TABLE q_age (id bigserial PRIMARY KEY, state smallint NOT NULL DEFAULT 3,"
            + " created_at timestamptz NOT NULL DEFAULT now())",
        "INSERT INTO q_age (state, created_at) SELECT 7, now() - interval '2 days' + g *"
            + " interval '1 s' FROM generate_series(1, 60) g",
        "INSERT INTO q_age (state, created_at) SELECT 3, now() - interval '1 hour' + g *"
            + " interval '1 s' FROM generate_series(1, 10) g",
        "INSERT INTO q_age (state, created_at) SELECT 4, now() - g * interval '1 s'"
            + " FROM generate_series(1, 5) g");
    TableName t = Migrations.table("q_age");
    Migrations m = migrations();
    assertThat(m.analyze(t).roles().status().orElseThrow().inProgress()).contains("4");
    TableAnalysis a;
    try (MotionObserver o = m.observe(t)) {
      o.sample();
      Fixtures.sql(
          db,
          "UPDATE q_age SET state = 5 WHERE id IN (SELECT id FROM q_age WHERE state = 3"
              + " ORDER BY id LIMIT 6)",
          "INSERT INTO q_age (state) VALUES (3), (3)");
      o.sample();
      Fixtures.sql(
          db,
          "UPDATE q_age SET state = 3 WHERE id IN (SELECT id FROM q_age WHERE state = 4"
              + " ORDER BY id LIMIT 2)",
          "UPDATE q_age SET state = 7 WHERE id IN (SELECT id FROM q_age WHERE state = 5"
              + " ORDER BY id LIMIT 5)",
          "UPDATE q_age SET state = 4 WHERE state = 5");
      o.sample();
      a = o.infer(null).analysis();
    }
    TableAnalysis.StatusColumn st = a.roles().status().orElseThrow();
    assertThat(st.failed()).containsExactly("4");
    assertThat(st.inProgress()).containsExactly("5");
    assertThat(String.join("\n", a.notes()))
        .contains(
            "status value 4: observed failed, but the names or the rows' age said in-progress");
  }

  /**
   * Done is the one role that lets the gates skip rows: the observation never makes a value done
   * against the names. Here most handled rows end in FAILED (so the motion alone would call it
   * done); the names say failed, and it stays failed.
   */
  @Test
  void theObservationNeverMakesAValueDoneAgainstTheNames() {
    Fixtures.sql(
        db,
        "CREATE TABLE q_named (id bigserial PRIMARY KEY, status text NOT NULL DEFAULT 'NEW')",
        "INSERT INTO q_named (status) SELECT 'DONE' FROM generate_series(1, 2)",
        "INSERT INTO q_named (status) SELECT 'FAILED' FROM generate_series(1, 1)",
        "INSERT INTO q_named (status) SELECT 'NEW' FROM generate_series(1, 20)");
    TableName t = Migrations.table("q_named");
    TableAnalysis a;
    try (MotionObserver o = migrations().observe(t)) {
      o.sample();
      Fixtures.sql(
          db,
          "INSERT INTO q_named DEFAULT VALUES",
          "UPDATE q_named SET status = 'FAILED' WHERE id IN (SELECT id FROM q_named"
              + " WHERE status = 'NEW' ORDER BY id LIMIT 5)",
          "UPDATE q_named SET status = 'DONE' WHERE id IN (SELECT id FROM q_named"
              + " WHERE status = 'NEW' ORDER BY id LIMIT 1)");
      o.sample();
      a = o.infer(null).analysis();
    }
    TableAnalysis.StatusColumn st = a.roles().status().orElseThrow();
    assertThat(st.failed()).contains("FAILED");
    assertThat(st.done()).doesNotContain("FAILED");
    assertThat(String.join("\n", a.notes()))
        .contains("FAILED done (5 rows reached it, none left it)")
        .contains(
            "status value FAILED: observed done, but the names or the rows' age said failed:"
                + " kept failed (the side where no row is skipped)");
  }

  /**
   * The poller's statements name the status column; a column that moves more (a retry counter
   * bumped on every attempt) does not replace it, and a note says so.
   */
  @Test
  void theStatementsStatusColumnIsKeptWhenAnotherColumnMovesMore() throws Exception {
    TestPostgres stmts = server.createDatabase("cli_analyze_motion_stmts_it");
    Fixtures.sql(
        stmts,
        "CREATE EXTENSION pg_stat_statements",
        "CREATE TABLE q_stmt (id bigserial PRIMARY KEY, st smallint NOT NULL DEFAULT 0,"
            + " tries int NOT NULL DEFAULT 0)",
        "INSERT INTO q_stmt (st) SELECT 0 FROM generate_series(1, 10)");
    try (Connection c = stmts.connect()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement("SELECT id FROM q_stmt WHERE st = ? LIMIT 2 FOR UPDATE SKIP LOCKED")) {
        ps.setInt(1, 0);
        ps.executeQuery().close();
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE q_stmt SET st = ? WHERE id = ?")) {
        ps.setInt(1, 0);
        ps.setLong(2, 1);
        ps.executeUpdate();
      }
      c.commit();
    }
    Migrations m =
        Migrations.builder()
            .jdbcUrl(stmts.jdbcUrl())
            .user(stmts.user())
            .password(stmts.password())
            .build();
    TableName t = Migrations.table("q_stmt");
    TableAnalysis a;
    try (MotionObserver o = m.observe(t)) {
      o.sample();
      Fixtures.sql(stmts, "UPDATE q_stmt SET tries = tries + 1 WHERE id <= 6");
      o.sample();
      Fixtures.sql(stmts, "UPDATE q_stmt SET st = 1, tries = tries + 1 WHERE id <= 2");
      o.sample();
      a = o.infer(null).analysis();
    }
    assertThat(a.roles().status().orElseThrow().column()).isEqualTo("st");
    assertThat(String.join("\n", a.notes()))
        .contains("the poller's statements filter on it and set it (pg_stat_statements)")
        .contains(
            "observed: tries changed in 8 row steps, more than the status column st (2): kept st");
  }

  /**
   * The option end to end. The rows move while the command observes, in an order the database's
   * locks fix, whatever the number of samples: the first sample waits behind a lock the test holds;
   * the poller's transaction queues behind that sample and moves the rows; every later sample waits
   * behind the poller and sees the moves.
   */
  @Test
  void observeOptionLearnsTheRolesWhileThePollerWorks() throws Exception {
    queue("q3");
    Fixtures.sql(
        db, "UPDATE q3 SET s = 5, w = 'w1', t = now(), n = n + 1 WHERE id IN (64, 65, 66)");
    Cli.Result plain = Cli.run(db, null, "analyze", "--table", "q3");
    assertThat(plain.out())
        .contains("the status roles are unclear: `unpoll analyze --table public.q3 --observe 30s`");

    CompletableFuture<Cli.Result> run;
    CompletableFuture<Void> poller;
    try (Connection gate = db.connect();
        Connection watch = db.connect()) {
      gate.setAutoCommit(false);
      try (Statement s = gate.createStatement()) {
        s.execute("LOCK TABLE q3 IN ACCESS EXCLUSIVE MODE");
      }
      run =
          CompletableFuture.supplyAsync(
              () -> Cli.run(db, null, "analyze", "--table", "q3", "--observe", "1s", "--json"));
      awaitWaiting(watch, MARKER + "%");
      poller =
          CompletableFuture.runAsync(
              () ->
                  Fixtures.sql(
                      db,
                      "BEGIN",
                      "LOCK TABLE q3 IN ACCESS EXCLUSIVE MODE",
                      "INSERT INTO q3 (x) SELECT jsonb_build_object('k', g)"
                          + " FROM generate_series(1, 3) g",
                      "UPDATE q3 SET s = 7 WHERE id IN (64, 65)",
                      "UPDATE q3 SET s = 4 WHERE id = 66",
                      "UPDATE q3 SET s = 5, w = 'w2', t = now(), n = n + 1 WHERE id IN"
                          + " (SELECT id FROM q3 WHERE s = 3 ORDER BY id LIMIT 4)",
                      "UPDATE q3 SET s = 3, w = NULL WHERE id IN (61, 62)",
                      "COMMIT"));
      awaitWaiting(watch, "LOCK TABLE q3%");
      gate.commit(); // the first sample reads, then the poller moves the rows
    }
    poller.get(120, TimeUnit.SECONDS);
    Cli.Result r = run.get(120, TimeUnit.SECONDS);
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode j = r.json();
    assertThat(j.at("/motion/samples").asInt()).isGreaterThanOrEqualTo(2);
    assertThat(j.at("/motion/column").asText()).isEqualTo("s");
    assertThat(j.at("/motion/inserted/3").asLong()).isEqualTo(3);
    assertThat(j.at("/roles/status/column").asText()).as(r.out()).isEqualTo("s");
    assertThat(j.at("/roles/status/pending").toString()).isEqualTo("[\"3\"]");
    assertThat(j.at("/roles/status/inProgress").toString()).isEqualTo("[\"5\"]");
    assertThat(j.at("/roles/status/done").toString()).isEqualTo("[\"7\"]");
    assertThat(j.at("/roles/status/failed").toString()).isEqualTo("[\"4\"]");
    assertThat(j.at("/roles/bookkeeping").toString()).isEqualTo("[\"s\",\"w\",\"t\",\"n\"]");
    assertThat(j.at("/mapping/status/in-progress").toString()).isEqualTo("[\"5\"]");
    assertThat(j.get("notes").toString())
        .contains("3 rows inserted with s 3", "4 rows 3→5", "2 rows 5→7", "1 row 5→4");
  }

  @Test
  void observeOptionOnATableWhereNothingMoves() {
    queue("q_quiet");
    Cli.Result r = Cli.run(db, null, "analyze", "--table", "q_quiet", "--observe", "1s");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains("no movement observed, nothing inferred from it")
        .doesNotContain("status column s")
        .doesNotContain("the status roles are unclear");
    assertThat(r.err()).contains("observing public.q_quiet for 1s");
  }

  @Test
  void planObservesToo(@TempDir Path dir) throws Exception {
    queue("q_plan");
    Path file = dir.resolve("unpoll.yaml");
    Cli.Result r =
        Cli.run(db, null, "plan", "--table", "q_plan", "--observe", "0s", "--out", file.toString());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).contains("no movement observed");
    assertThat(Files.readString(file)).contains("- table: public.q_plan");
  }

  @Test
  void aTableWithoutPrimaryKeyCannotBeObserved() {
    Fixtures.sql(db, "CREATE TABLE q_nokey (s smallint, x jsonb)");
    Cli.Result r = Cli.run(db, null, "analyze", "--table", "q_nokey", "--observe", "1s");
    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    assertThat(r.err())
        .contains("public.q_nokey has no primary key: its rows cannot be observed")
        .contains("run analyze without --observe for the options");
  }

  private static final String MARKER = "/* unpoll analyze --observe */";

  /** Waits until another session waits on a lock with a statement like {@code pattern}. */
  private static void awaitWaiting(Connection c, String pattern) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                          + " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
                          + " AND query LIKE ?")) {
                ps.setString(1, pattern);
                try (ResultSet rs = ps.executeQuery()) {
                  rs.next();
                  return rs.getLong(1) > 0;
                }
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            });
  }
}
