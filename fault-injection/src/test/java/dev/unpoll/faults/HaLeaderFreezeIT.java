package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.contract.RelayNames;
import dev.unpoll.relay.ops.LeaderElection;
import dev.unpoll.testkit.ChildJvm;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 2 (second half): two relays on one configuration in HA mode under the writers'
 * load; the leader is frozen with SIGSTOP at a random point. PostgreSQL itself says what happens:
 * the frozen leader's walsender ends after {@code wal_sender_timeout} (2 s in this database), its
 * lock session after the election's {@code idle_session_timeout}; the standby must then hold the
 * advisory lock and stream from the slot ({@code pg_replication_slots.active_pid} changes). Only
 * then is the old leader thawed: it must step down without storing anything. A trigger on the
 * offsets table records every stored commit LSN and the client port of the session that stored it;
 * no offset may come through the frozen leader's connections after the freeze, and the stored
 * commit LSN must never go backwards. Repeated {@link Harness#INJECTIONS} times, the pair swapping
 * roles each time; then the ledger check.
 */
@ExtendWith(UnpollStackExtension.class)
class HaLeaderFreezeIT {
  private static final String LOCK = "fi-ha-leader-freeze";
  private static final long KEY = LeaderElection.lockKey(LOCK);

  @Test
  void leaderFrozenStandbyTakesOverThawedLeaderStepsDown(
      TestPostgres server, TestKafka kafka, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir)
      throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "ha_freeze")) {
      try (Connection c = h.db.connect();
          Statement s = c.createStatement()) {
        s.execute("ALTER DATABASE " + h.db.database() + " SET wal_sender_timeout = '2s'");
      }
      Path config = h.haConfig(LOCK);
      String[] names = {"relay-a", "relay-b"};
      ChildJvm[] relays = new ChildJvm[2];
      try {
        relays[0] = h.startRelayProcess(names[0], config);
        await().atMost(Duration.ofSeconds(90)).until(() -> walsender(h) != 0);
        assertThat(leaderPid(h)).isEqualTo(relays[0].pid());
        auditOffsets(h); // the leader created the offsets table before it streamed
        relays[1] = h.startRelayProcess(names[1], config);
        ChildJvm standby = relays[1];
        await().atMost(Duration.ofSeconds(90)).until(() -> electionSessions(h, standby.pid()) == 1);
        h.startConsumer();
        h.load.start();
        List<String> takeovers = new ArrayList<>();
        List<String> zombieWrites = new ArrayList<>();
        for (int i = 0; i < Harness.INJECTIONS; i++) {
          long leaderPid = leaderPid(h);
          int old = relays[0].pid() == leaderPid ? 0 : 1;
          int next = 1 - old;
          assertThat(relays[old].pid())
              .as("the lock holder is one of the pair")
              .isEqualTo(leaderPid);
          long point = h.nextPoint(100, 2_000);
          await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
          int walsender = walsender(h);
          AtomicInteger taken = new AtomicInteger();
          long standingBy = count(h, names[old], "standing by for leadership");
          h.injected();
          relays[old].freeze();
          long frozenAt = System.nanoTime();
          ChildJvm frozen = relays[old];
          await().atMost(Duration.ofSeconds(30)).until(() -> stopped(frozen.pid()));
          // committed so far; whatever it stores from now on commits after the thaw
          long writesBeforeFreeze = lastOffsetWrite(h);
          // deterministic, no sleep: the slot's active_pid says when another walsender streams
          await()
              .atMost(Duration.ofSeconds(120))
              .pollInterval(Duration.ofMillis(100))
              .until(
                  () -> {
                    int now = walsender(h);
                    taken.set(now);
                    return now != 0 && now != walsender;
                  });
          Duration takeover = Duration.ofNanos(System.nanoTime() - frozenAt);
          assertThat(leaderPid(h))
              .as("the lock holder after the takeover")
              .isEqualTo(relays[next].pid());
          String line =
              "injection %d: %s frozen, %s streaming after %.1f s (walsender %d -> %d)"
                  .formatted(
                      i + 1,
                      names[old],
                      names[next],
                      takeover.toMillis() / 1000.0,
                      walsender,
                      taken.get());
          Harness.LOG.info("HA leader SIGSTOP {}", line);
          takeovers.add(line);
          // the new leader publishes and stores offsets before the old one wakes up
          long published = h.published();
          long stored = lastOffsetWrite(h);
          await().atMost(Duration.ofMinutes(2)).until(() -> h.published() > published + 50);
          await().atMost(Duration.ofMinutes(2)).until(() -> lastOffsetWrite(h) > stored);
          // its connections, frozen with it: any offset stored through them from now on is its own
          Set<Integer> oldPorts = localPorts(relays[old].pid());
          relays[old].thaw();
          // it notices that it lost the lock and stands by again, or exits (a supervisor restarts
          // it)
          ChildJvm thawed = relays[old];
          await()
              .atMost(Duration.ofSeconds(120))
              .until(
                  () ->
                      !thawed.isAlive()
                          || (count(h, names[old], "standing by for leadership") > standingBy
                              && electionSessions(h, thawed.pid()) == 1));
          if (!thawed.isAlive()) {
            Harness.LOG.info(
                "{} exited with {} after the thaw; restarting it", thawed, thawed.exitCode());
            relays[old] = h.startRelayProcess(names[old], config);
            ChildJvm restarted = relays[old];
            await()
                .atMost(Duration.ofSeconds(90))
                .until(() -> electionSessions(h, restarted.pid()) == 1);
          }
          assertThat(leaderPid(h))
              .as("still the leader after the thaw")
              .isEqualTo(relays[next].pid());
          Harness.LOG.info(
              "HA leader SIGSTOP injection {}: {} after the thaw: 'leadership LOST' {} times,"
                  + " offset writes refused {} times (its log, all runs)",
              i + 1,
              names[old],
              count(h, names[old], "leadership LOST"),
              count(h, names[old], "HA: offsets not stored"));
          zombieWrites.addAll(writesThrough(h, oldPorts, writesBeforeFreeze, names[old]));
          h.released();
        }
        List<String> backwards = offsetsBackwards(h);
        Harness.LOG.info(
            "HA leader SIGSTOP: takeovers {}; offsets stored by a deposed leader: {}; offsets"
                + " stored backwards: {}",
            takeovers,
            zombieWrites,
            backwards);
        Checker.Report r =
            h.settleAndCheck(
                "2b. HA pair: the leader SIGSTOP past wal_sender_timeout, the standby takes over,"
                    + " the leader thawed");
        assertThat(r.committed()).isPositive();
        assertThat(zombieWrites)
            .as("offsets stored by a leader after it was frozen and replaced (logs in " + dir + ")")
            .isEmpty();
        assertThat(backwards)
            .as(
                "offsets stored over a newer position by a deposed leader (replayed on the next"
                    + " start; logs in "
                    + dir
                    + ")")
            .isEmpty();
      } finally {
        for (ChildJvm relay : relays) {
          if (relay != null) {
            relay.close();
          }
        }
      }
    }
  }

  /** The slot's walsender (server process id), 0 while nobody streams. */
  private static int walsender(Harness h) throws SQLException {
    try (Connection c = h.db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT coalesce(active_pid, 0) FROM pg_replication_slots WHERE slot_name = ?")) {
      ps.setString(1, h.slot);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }

  /**
   * The operating-system process id of the relay whose election session holds the lock (its
   * application_name is {@code unpoll-relay-leader:<host>-<pid>}), or 0.
   */
  private static long leaderPid(Harness h) throws SQLException {
    try (Connection c = h.db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    + " WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = ?"
                    + " AND l.objid::bigint = ? AND l.objsubid = 1")) {
      ps.setLong(1, KEY >>> 32);
      ps.setLong(2, KEY & 0xFFFF_FFFFL);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return 0;
        }
        String name = rs.getString(1);
        return Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
      }
    }
  }

  /** Election sessions of the relay process {@code pid} (a standby keeps one open to retry). */
  private static long electionSessions(Harness h, long pid) throws SQLException {
    try (Connection c = h.db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE"
                    + " 'unpoll-relay-leader:%' AND application_name LIKE ?")) {
      ps.setString(1, "%-" + pid);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * Records every row stored into the relay's offsets table (committed with it): its LSN, the
   * server process and the application name of the session that stored it.
   */
  private static void auditOffsets(Harness h) throws SQLException {
    // the relay's role keeps its offsets in its own schema (unpoll grants)
    String table = h.relayRole + "." + RelayNames.offsetsTable(h.slot);
    try (Connection c = h.db.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE fi.offset_writes (seq bigserial PRIMARY KEY, lsn_commit bigint,"
              + " backend int, client_port int, application text,"
              + " at timestamptz NOT NULL DEFAULT clock_timestamp())");
      s.execute(
          """
          CREATE FUNCTION fi.audit_offset() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
          BEGIN
            INSERT INTO fi.offset_writes (lsn_commit, backend, client_port, application)
            VALUES ((NEW.offset_val::jsonb ->> 'lsn_commit')::bigint, pg_backend_pid(),
                    inet_client_port(), current_setting('application_name'));
            RETURN NEW;
          END $$""");
      s.execute(
          "CREATE TRIGGER fi_audit AFTER INSERT ON "
              + table
              + " FOR EACH ROW EXECUTE FUNCTION fi.audit_offset()");
    }
  }

  private static long lastOffsetWrite(Harness h) throws SQLException {
    try (Connection c = h.db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT coalesce(max(seq), 0) FROM fi.offset_writes")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Stored offsets whose commit LSN ({@code lsn_commit}: changes stream in commit order, so it only
   * grows while one relay streams) is below one stored before them.
   */
  private static List<String> offsetsBackwards(Harness h) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = h.db.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                """
                SELECT seq, lsn_commit, before, backend, application, at FROM (
                  SELECT *, max(lsn_commit) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING
                                                  AND 1 PRECEDING) AS before
                  FROM fi.offset_writes) w
                WHERE lsn_commit < before ORDER BY seq""")) {
      while (rs.next()) {
        out.add(
            "write #%d lsn_commit %d after %d, by backend %d (%s) at %s"
                .formatted(
                    rs.getLong(1),
                    rs.getLong(2),
                    rs.getLong(3),
                    rs.getInt(4),
                    rs.getString(5),
                    rs.getString(6)));
      }
    }
    return out;
  }

  /** Offsets stored after write {@code after} through a connection from one of {@code ports}. */
  private static List<String> writesThrough(Harness h, Set<Integer> ports, long after, String who)
      throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = h.db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT seq, lsn_commit, client_port, application, at FROM fi.offset_writes"
                    + " WHERE seq > ? ORDER BY seq")) {
      ps.setLong(1, after);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (ports.contains(rs.getInt(3))) {
            out.add(
                "%s stored lsn_commit %d (write #%d, port %d, %s) at %s"
                    .formatted(
                        who,
                        rs.getLong(2),
                        rs.getLong(1),
                        rs.getInt(3),
                        rs.getString(4),
                        rs.getString(5)));
          }
        }
      }
    }
    return out;
  }

  /** True when the process is stopped (SIGSTOP took effect): state T in /proc/pid/stat. */
  private static boolean stopped(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return stat.substring(stat.lastIndexOf(')') + 2).startsWith("T");
  }

  /** Local TCP ports of the sockets process {@code pid} has open (Linux: /proc). */
  private static Set<Integer> localPorts(long pid) throws IOException {
    Set<String> inodes = new HashSet<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
      for (Path fd : fds) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring("socket:[".length(), target.length() - 1));
          }
        } catch (IOException closed) {
          // gone meanwhile
        }
      }
    }
    Set<Integer> ports = new HashSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path p = Path.of(table);
      if (!Files.exists(p)) {
        continue;
      }
      for (String line : Files.readAllLines(p)) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 9 && inodes.contains(f[9])) {
          String local = f[1];
          ports.add(Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }

  private static long count(Harness h, String name, String text) throws IOException {
    Path log = h.dir.resolve(name + ".log");
    if (!Files.exists(log)) {
      return 0;
    }
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains(text)).count();
    }
  }
}
