package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@ExtendWith(UnpollStackExtension.class)
class LeaderElectionIT {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderElectionIT.class);
  private static TestPostgres db;

  private final List<LeaderElection> elections = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("ops_leader_it");
  }

  @AfterEach
  void closeAll() {
    elections.forEach(LeaderElection::close);
    pool.shutdownNow();
  }

  private LeaderElection election(String lockName, String instance, AtomicInteger lost) {
    return election(lockName, instance, lost, Duration.ofMillis(500));
  }

  private LeaderElection election(
      String lockName, String instance, AtomicInteger lost, Duration interval) {
    LeaderElection e =
        LeaderElection.builder()
            .jdbcUrl(db.jdbcUrl())
            .user(db.user())
            .password(db.password())
            .lockName(lockName)
            .instanceName(lockName + ":" + instance)
            .checkInterval(interval)
            .retryInterval(interval)
            .sessionTimeout(Duration.ofSeconds(3))
            .onLeadershipLost(lost::incrementAndGet)
            .build();
    elections.add(e);
    return e;
  }

  private Future<?> compete(LeaderElection e) {
    return pool.submit(
        () -> {
          e.awaitLeadership();
          return null;
        });
  }

  private long leaders() {
    return elections.stream().filter(LeaderElection::isLeader).count();
  }

  /** The backend pids holding the advisory lock of {@code key}, as an operator would look. */
  private static List<Integer> lockHolders(long key) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted"
                    + " AND l.classid::bigint = ? AND l.objid::bigint = ? AND l.objsubid = 1")) {
      s.setLong(1, key >>> 32);
      s.setLong(2, key & 0xFFFF_FFFFL);
      List<Integer> pids = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          pids.add(rs.getInt(1));
        }
      }
      return pids;
    }
  }

  @Test
  void exactlyOneOfThreeReplicasLeadsAndKeepsTheLock() throws Exception {
    AtomicInteger lost = new AtomicInteger();
    for (int i = 0; i < 3; i++) {
      compete(election("three-replicas", "r" + i, lost));
    }

    await().atMost(Duration.ofSeconds(15)).until(() -> leaders() == 1);
    // The watchdog checks every 500 ms: the leader must keep passing its own check.
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(5))
        .until(() -> leaders() == 1 && lost.get() == 0);
    assertThat(lockHolders(LeaderElection.lockKey("three-replicas"))).hasSize(1);
  }

  @Test
  void standbyTakesOverWhenTheLeadersBackendIsTerminated() throws Exception {
    // Default intervals: the takeover time logged below is the one docs/operations.md quotes.
    AtomicInteger lostA = new AtomicInteger();
    AtomicInteger lostB = new AtomicInteger();
    Duration defaults = LeaderElection.DEFAULT_CHECK_INTERVAL;
    LeaderElection a = election("failover", "a", lostA, defaults);
    a.awaitLeadership();
    LeaderElection b = election("failover", "b", lostB, defaults);
    Future<?> standby = compete(b);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> !b.isLeader());

    long key = LeaderElection.lockKey("failover");
    List<Integer> holders = lockHolders(key);
    assertThat(holders).hasSize(1);
    long started = System.nanoTime();
    try (Connection c = db.connect();
        PreparedStatement s = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
      s.setInt(1, holders.get(0));
      s.execute();
    }

    await().atMost(Duration.ofSeconds(10)).until(() -> lostA.get() == 1 && !a.isLeader());
    long lostMs = (System.nanoTime() - started) / 1_000_000;
    await().atMost(Duration.ofSeconds(10)).until(b::isLeader);
    long takeoverMs = (System.nanoTime() - started) / 1_000_000;
    standby.get();
    LOG.info(
        "failover: old leader noticed the loss after {} ms, standby leader after {} ms",
        lostMs,
        takeoverMs);
    assertThat(lostB).hasValue(0);
    assertThat(lockHolders(key)).hasSize(1).doesNotContain(holders.get(0));
  }

  @Test
  void formerLeaderCanStandByAgainAfterALoss() throws Exception {
    AtomicInteger lost = new AtomicInteger();
    LeaderElection a = election("rejoin", "a", lost);
    a.awaitLeadership();
    try (Connection c = db.connect();
        PreparedStatement s = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
      s.setInt(1, lockHolders(LeaderElection.lockKey("rejoin")).get(0));
      s.execute();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> lost.get() == 1);

    assertThat(a.awaitLeadership(Duration.ofSeconds(10))).isTrue();
    assertThat(a.isLeader()).isTrue();
  }

  @Test
  void closeReleasesTheLockPromptly() throws Exception {
    AtomicInteger lost = new AtomicInteger();
    LeaderElection a = election("close-release", "a", lost);
    a.awaitLeadership();
    LeaderElection b = election("close-release", "b", lost);
    assertThat(b.awaitLeadership(Duration.ofMillis(1200))).isFalse();

    a.close();

    assertThat(lockHolders(LeaderElection.lockKey("close-release"))).isEmpty();
    assertThat(b.awaitLeadership(Duration.ofSeconds(5))).isTrue();
    assertThat(lost).hasValue(0);
    assertThatThrownBy(a::awaitLeadership)
        .isInstanceOf(RelayOpsException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void differentLockNamesDoNotExcludeEachOther() throws Exception {
    AtomicInteger lost = new AtomicInteger();
    LeaderElection a = election("relay-orders", "a", lost);
    LeaderElection b = election("relay-invoices", "b", lost);
    assertThat(a.awaitLeadership(Duration.ofSeconds(5))).isTrue();
    assertThat(b.awaitLeadership(Duration.ofSeconds(5))).isTrue();
  }

  @Test
  void standbyReconnectsWhenItsOwnSessionIsTerminated() throws Exception {
    AtomicInteger lost = new AtomicInteger();
    LeaderElection a = election("standby-reconnect", "a", lost);
    a.awaitLeadership();
    LeaderElection b = election("standby-reconnect", "b", lost);
    Future<?> standby = compete(b);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> standbyPids("standby-reconnect:b").size() == 1);

    try (Connection c = db.connect();
        PreparedStatement s = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
      s.setInt(1, standbyPids("standby-reconnect:b").get(0));
      s.execute();
    }
    a.close();

    await().atMost(Duration.ofSeconds(10)).until(b::isLeader);
    standby.get();
    assertThat(lost).hasValue(0);
  }

  @Test
  void waitingStandbyCanBeInterruptedOrClosed() throws Exception {
    AtomicInteger lost = new AtomicInteger();
    election("interrupt", "a", lost).awaitLeadership();
    LeaderElection b = election("interrupt", "b", lost);
    LeaderElection c = election("interrupt", "c", lost);
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread waiting =
        new Thread(
            () -> {
              try {
                b.awaitLeadership();
                outcome.set(new AssertionError("became leader"));
              } catch (Throwable t) {
                outcome.set(t);
              }
            });
    waiting.start();
    Future<?> closed = compete(c);
    await().atMost(Duration.ofSeconds(10)).until(() -> standbyPids("interrupt:").size() == 3);

    waiting.interrupt();
    c.close();

    assertThatThrownBy(closed::get)
        .hasCauseInstanceOf(RelayOpsException.class)
        .hasMessageContaining("closed");
    waiting.join(10_000);
    assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
    assertThat(b.isLeader()).isFalse();
  }

  @Test
  void fencedWritesCommitOnlyWhileTheLockIsHeld() throws Exception {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement("CREATE TABLE IF NOT EXISTS fenced_writes (note text)")) {
      s.execute();
    }
    AtomicInteger lost = new AtomicInteger();
    LeaderElection a = election("fenced", "a", lost);
    assertThatThrownBy(() -> a.runFenced(c -> insertNote(c, "before leading")))
        .isInstanceOf(LeaderElection.NotLeaderException.class);
    a.awaitLeadership();
    AtomicReference<String> idleInTransaction = new AtomicReference<>();
    a.runFenced(
        c -> {
          insertNote(c, "while leading");
          try (PreparedStatement s =
                  c.prepareStatement(
                      "SELECT extract(epoch FROM"
                          + " current_setting('idle_in_transaction_session_timeout')::interval)");
              ResultSet rs = s.executeQuery()) {
            rs.next();
            idleInTransaction.set(rs.getString(1));
          }
        });
    // a leader frozen inside a fenced write must not keep the lock: the server ends the session
    assertThat(Double.parseDouble(idleInTransaction.get()))
        .isEqualTo(a.idleSessionTimeout().toMillis() / 1000.0);

    try (Connection c = db.connect();
        PreparedStatement s = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
      s.setInt(1, lockHolders(LeaderElection.lockKey("fenced")).get(0));
      s.execute();
    }
    // before the watchdog noticed, as a thawed leader would try: the write cannot commit
    assertThatThrownBy(() -> a.runFenced(c -> insertNote(c, "after the loss")))
        .isInstanceOf(SQLException.class);
    await().atMost(Duration.ofSeconds(10)).until(() -> lost.get() == 1);
    assertThatThrownBy(() -> a.runFenced(c -> insertNote(c, "after the loss")))
        .isInstanceOf(LeaderElection.NotLeaderException.class);
    try (Connection c = db.connect();
        PreparedStatement s = c.prepareStatement("SELECT note FROM fenced_writes");
        ResultSet rs = s.executeQuery()) {
      List<String> notes = new ArrayList<>();
      while (rs.next()) {
        notes.add(rs.getString(1));
      }
      assertThat(notes).containsExactly("while leading");
    }
  }

  private static void insertNote(Connection c, String note) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("INSERT INTO fenced_writes VALUES (?)")) {
      s.setString(1, note);
      s.executeUpdate();
    }
  }

  /** Backend pids of sessions whose application_name contains the given instance marker. */
  private static List<Integer> standbyPids(String marker) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name LIKE ?")) {
      s.setString(1, "unpoll-relay-leader:%" + marker + "%");
      List<Integer> pids = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          pids.add(rs.getInt(1));
        }
      }
      return pids;
    }
  }
}
