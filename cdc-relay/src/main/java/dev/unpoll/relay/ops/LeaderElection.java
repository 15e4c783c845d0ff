package dev.unpoll.relay.ops;

import dev.unpoll.relay.ops.internal.PgConnections;
import dev.unpoll.relay.ops.internal.Problems;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Elects one active relay among several replicas that share one configuration, with a PostgreSQL
 * session-level advisory lock held on a dedicated connection.
 *
 * <p>{@link #awaitLeadership()} tries {@code pg_try_advisory_lock(key)} every {@link
 * Builder#retryInterval(Duration) retry interval} until it gets the lock. While leader, a watchdog
 * checks every {@link Builder#checkInterval(Duration) check interval} that the session is alive and
 * still holds the lock (a query on {@code pg_locks} for this backend). When the check fails (the
 * session was terminated, the server restarted, the network is gone: a dead network is noticed
 * through the session timeout), the connection is closed, {@link #isLeader()} turns false and the
 * {@link Builder#onLeadershipLost(Runnable) onLeadershipLost} callback runs once, on the watchdog
 * thread. The relay must stop streaming at once in that callback. After a loss, {@link
 * #awaitLeadership()} may be called again to become a standby.
 *
 * <p>The session sets {@code idle_session_timeout} (PostgreSQL 14+) and {@code
 * idle_in_transaction_session_timeout} to twice the longest of the check and retry intervals plus
 * the session timeout (12 s with the defaults), so that when this process is cut off from the
 * database or frozen (SIGSTOP, a long GC pause, a suspended VM), the server ends the session and
 * frees the lock soon after, instead of after TCP keep-alive gives up (the kernel of a frozen
 * process still acknowledges, so keep-alive never does).
 *
 * <p>{@link #runFenced(SessionWork)} commits a write only while this instance holds the lock: a
 * leader that wakes up after another replica took over cannot store anything with it.
 *
 * <p>The lock key is {@link #lockKey(String)}: the first 8 bytes (big-endian, signed) of the
 * SHA-256 of the lock name in UTF-8. In {@code pg_locks} it shows as {@code classid} = the high 32
 * bits and {@code objid} = the low 32 bits, {@code objsubid = 1}.
 *
 * <pre>{@code
 * LeaderElection election = LeaderElection.builder()
 *     .jdbcUrl(url).user(user).password(password)
 *     .lockName("unpoll-relay-orders")
 *     .onLeadershipLost(engine::stopNow)
 *     .build();
 * election.awaitLeadership();   // blocks while another replica leads
 * engine.start();
 * }</pre>
 */
public final class LeaderElection implements AutoCloseable {
  /** Default interval of the leader's session check. */
  public static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofSeconds(1);

  /** Default interval between a standby's attempts to take the lock. */
  public static final Duration DEFAULT_RETRY_INTERVAL = Duration.ofSeconds(1);

  /** Default connect, socket and query timeout of the dedicated session. */
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(5);

  private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);

  private static final String CHECK_SQL =
      "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
          + " AND pid = pg_backend_pid() AND granted"
          + " AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1)";

  private final String lockName;
  private final long lockKey;
  private final Duration checkInterval;
  private final Duration retryInterval;
  private final Duration sessionTimeout;
  private final Runnable onLeadershipLost;
  private final PgConnections connections;
  private final ScheduledExecutorService watchdog;

  private Connection session; // guarded by this
  private ScheduledFuture<?> check; // guarded by this
  private int backendPid; // guarded by this
  private volatile boolean leader;
  private volatile boolean closed;

  private LeaderElection(Builder b) {
    this.lockName = b.lockName;
    this.lockKey = lockKey(b.lockName);
    this.checkInterval = b.checkInterval;
    this.retryInterval = b.retryInterval;
    this.sessionTimeout = b.sessionTimeout;
    this.onLeadershipLost = b.onLeadershipLost;
    this.connections =
        new PgConnections(
            b.jdbcUrl,
            b.user,
            b.password,
            "unpoll-relay-leader:" + b.instanceName,
            b.sessionTimeout);
    this.watchdog =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "unpoll-leader-watchdog-" + b.lockName);
              t.setDaemon(true);
              return t;
            });
  }

  /** A builder; {@code jdbcUrl} and {@code lockName} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The advisory-lock key of a lock name: the first 8 bytes of SHA-256(UTF-8 name) read as a
   * big-endian signed long. Stable across JVMs, versions and machines.
   */
  public static long lockKey(String lockName) {
    Objects.requireNonNull(lockName, "lockName");
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(lockName.getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(digest, 0, Long.BYTES).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  /** This election's lock key ({@link #lockKey(String)} of the lock name). */
  public long lockKey() {
    return lockKey;
  }

  /** The configured lock name. */
  public String lockName() {
    return lockName;
  }

  /** True while this instance holds the lock, as of the last check. */
  public boolean isLeader() {
    return leader;
  }

  /**
   * Blocks until this instance holds the lock. Returns at once when it already does.
   *
   * @throws InterruptedException when the waiting thread is interrupted
   * @throws RelayOpsException when the election is closed (also while waiting)
   */
  public void awaitLeadership() throws InterruptedException {
    awaitLeadership(null);
  }

  /**
   * Waits at most {@code timeout} for the lock.
   *
   * @return true when this instance is leader, false when the time ran out
   * @throws InterruptedException when the waiting thread is interrupted
   * @throws RelayOpsException when the election is closed (also while waiting)
   */
  public boolean awaitLeadership(Duration timeout) throws InterruptedException {
    long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
    boolean warned = false;
    while (true) {
      if (closed) {
        throw new RelayOpsException("leader election '" + lockName + "' is closed");
      }
      if (leader) {
        return true;
      }
      try {
        if (tryAcquire()) {
          return true;
        }
        warned = false;
      } catch (SQLException e) {
        if (!warned) {
          LOG.warn(
              "leader election '{}': cannot reach {} ({}); retrying every {}",
              lockName,
              connections.safeUrl(),
              e.getMessage(),
              retryInterval);
          warned = true;
        }
        dropSession();
      }
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      long left = deadline - System.nanoTime();
      if (timeout != null && left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(left, retryInterval.toNanos()));
    }
  }

  private synchronized boolean tryAcquire() throws SQLException {
    if (closed) {
      return false;
    }
    if (session == null) {
      session = connections.open();
      try (PreparedStatement s = session.prepareStatement("SELECT pg_backend_pid()");
          ResultSet rs = s.executeQuery()) {
        rs.next();
        backendPid = rs.getInt(1);
      }
      limitIdleSession();
      LOG.info(
          "leader election '{}' (key {}): session pid {} opened", lockName, lockKey, backendPid);
    }
    try (PreparedStatement s = session.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
      s.setQueryTimeout(timeoutSeconds());
      s.setLong(1, lockKey);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          return false;
        }
      }
    }
    leader = true;
    long millis = checkInterval.toMillis();
    check = watchdog.scheduleWithFixedDelay(this::check, millis, millis, TimeUnit.MILLISECONDS);
    LOG.info(
        "leader election '{}' (key {}): this instance is leader, session pid {}",
        lockName,
        lockKey,
        backendPid);
    return true;
  }

  /**
   * Lets the server end this session when it goes quiet (the client is partitioned away or hung):
   * the session runs a query every check or retry interval, so it is never idle longer than that
   * while this process is healthy. Without it the server keeps a lost client's session, and the
   * lock, until TCP keep-alive gives up (two hours with operating-system defaults). PostgreSQL 14+.
   */
  private void limitIdleSession() {
    long quietMillis = idleSessionTimeout().toMillis();
    // idle_session_timeout does not count while a transaction is open: a leader frozen inside a
    // fenced write (runFenced) would keep the lock for ever without the in-transaction limit
    for (String setting :
        new String[] {"idle_in_transaction_session_timeout", "idle_session_timeout"}) {
      try (PreparedStatement s = session.prepareStatement("SELECT set_config(?, ?, false)")) {
        s.setString(1, setting);
        s.setString(2, quietMillis + "ms");
        s.execute();
      } catch (SQLException e) {
        LOG.debug("{} not available (PostgreSQL before 14?)", setting, e);
      }
    }
  }

  /**
   * How long the server lets this election's session sit idle: twice the longest of the check and
   * retry intervals plus the session timeout.
   */
  Duration idleSessionTimeout() {
    Duration longest = checkInterval.compareTo(retryInterval) > 0 ? checkInterval : retryInterval;
    return longest.plus(sessionTimeout).multipliedBy(2);
  }

  /** Work on the election's session, see {@link #runFenced(SessionWork)}. */
  @FunctionalInterface
  public interface SessionWork {
    /** Runs statements on {@code session}; must not commit, roll back or close it. */
    void run(Connection session) throws SQLException;
  }

  /**
   * Runs {@code work} in one transaction on the session that holds the lock, and commits it: a
   * write fenced by the leadership. A session-level advisory lock lives as long as its session, so
   * the transaction commits only while this instance leads; once the server has ended the session
   * (a leader frozen past the session's idle timeouts, cut off, or terminated), the write fails
   * instead of landing after another replica has taken over. The relay stores its offsets this way,
   * so that a deposed leader that wakes up cannot store an older position over the new leader's.
   *
   * @throws NotLeaderException when this instance does not hold the lock (as of the last check)
   * @throws SQLException when the work or the commit fails (the transaction is rolled back)
   */
  public void runFenced(SessionWork work) throws SQLException {
    synchronized (this) {
      if (!leader || session == null) {
        throw new NotLeaderException(
            "leader election '" + lockName + "': this instance is not the leader");
      }
      Connection c = session;
      boolean done = false;
      try {
        c.setAutoCommit(false);
        work.run(c);
        c.commit();
        done = true;
      } finally {
        if (!done) {
          try {
            c.rollback();
          } catch (SQLException ignored) {
            // the session is broken: the server rolls back, the watchdog notices the loss
          }
        }
        try {
          c.setAutoCommit(true);
        } catch (SQLException ignored) {
          // as above
        }
      }
    }
  }

  /** {@link #runFenced(SessionWork)} refused: this instance is not the leader. */
  public static final class NotLeaderException extends SQLException {
    private static final long serialVersionUID = 1L;

    NotLeaderException(String message) {
      super(message, "55000");
    }
  }

  private void check() {
    String failure;
    synchronized (this) {
      if (!leader || session == null) {
        return;
      }
      try (PreparedStatement s = session.prepareStatement(CHECK_SQL)) {
        s.setQueryTimeout(timeoutSeconds());
        s.setLong(1, lockKey >>> 32);
        s.setLong(2, lockKey & 0xFFFF_FFFFL);
        try (ResultSet rs = s.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            return;
          }
          failure = "the session no longer holds the advisory lock";
        }
      } catch (SQLException | RuntimeException e) {
        failure = "the session check failed: " + e.getMessage();
      }
    }
    lose(failure);
  }

  private void lose(String reason) {
    synchronized (this) {
      if (!leader) {
        return;
      }
      leader = false;
      if (check != null) {
        check.cancel(false);
        check = null;
      }
      // Closing the session makes sure the server releases the lock if it still holds it.
      PgConnections.closeQuietly(session);
      session = null;
    }
    LOG.error(
        "leader election '{}' (key {}): leadership LOST ({}); stop streaming now",
        lockName,
        lockKey,
        reason);
    try {
      onLeadershipLost.run();
    } catch (RuntimeException e) {
      LOG.error("leader election '{}': onLeadershipLost callback failed", lockName, e);
    }
  }

  private synchronized void dropSession() {
    PgConnections.closeQuietly(session);
    session = null;
  }

  private int timeoutSeconds() {
    return (int) Math.max(1, (sessionTimeout.toMillis() + 999) / 1000);
  }

  /**
   * Releases the lock (when held) and closes the session. Does not call {@code onLeadershipLost}:
   * the caller stops the relay itself. A thread blocked in {@link #awaitLeadership()} gets a {@link
   * RelayOpsException} at its next attempt.
   */
  @Override
  public void close() {
    boolean wasLeader;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      wasLeader = leader;
      leader = false;
      if (check != null) {
        check.cancel(false);
        check = null;
      }
      if (wasLeader && session != null) {
        try (PreparedStatement s = session.prepareStatement("SELECT pg_advisory_unlock(?)")) {
          s.setQueryTimeout(timeoutSeconds());
          s.setLong(1, lockKey);
          s.execute();
        } catch (SQLException e) {
          LOG.debug("unlock failed; closing the session releases the lock", e);
        }
      }
      PgConnections.closeQuietly(session);
      session = null;
    }
    watchdog.shutdownNow();
    if (wasLeader) {
      LOG.info("leader election '{}' (key {}): lock released", lockName, lockKey);
    }
  }

  /** Settings of a {@link LeaderElection}; {@link #build()} checks them all at once. */
  public static final class Builder {
    private String jdbcUrl;
    private String user;
    private String password;
    private String lockName;
    private String instanceName = defaultInstanceName();
    private Duration checkInterval = DEFAULT_CHECK_INTERVAL;
    private Duration retryInterval = DEFAULT_RETRY_INTERVAL;
    private Duration sessionTimeout = DEFAULT_SESSION_TIMEOUT;
    private Runnable onLeadershipLost = () -> {};

    private Builder() {}

    /** {@code jdbc:postgresql://host:port/database[?params]} of the source database. */
    public Builder jdbcUrl(String jdbcUrl) {
      this.jdbcUrl = jdbcUrl;
      return this;
    }

    /** Database user (any user may take advisory locks). */
    public Builder user(String user) {
      this.user = user;
      return this;
    }

    /** Password of the user; never logged. */
    public Builder password(String password) {
      this.password = password;
      return this;
    }

    /** Name shared by all replicas of one relay (config {@code ha.lock-name}). */
    public Builder lockName(String lockName) {
      this.lockName = lockName;
      return this;
    }

    /**
     * Name of this replica, shown in {@code pg_stat_activity.application_name} as {@code
     * unpoll-relay-leader:<name>}. Default: host name and process id.
     */
    public Builder instanceName(String instanceName) {
      this.instanceName = instanceName;
      return this;
    }

    /** How often the leader checks its session (default {@link #DEFAULT_CHECK_INTERVAL}). */
    public Builder checkInterval(Duration checkInterval) {
      this.checkInterval = checkInterval;
      return this;
    }

    /** How often a standby tries the lock (default {@link #DEFAULT_RETRY_INTERVAL}). */
    public Builder retryInterval(Duration retryInterval) {
      this.retryInterval = retryInterval;
      return this;
    }

    /**
     * Connect, socket and query timeout of the dedicated session (default {@link
     * #DEFAULT_SESSION_TIMEOUT}): bounds how long a dead network goes unnoticed.
     */
    public Builder sessionTimeout(Duration sessionTimeout) {
      this.sessionTimeout = sessionTimeout;
      return this;
    }

    /**
     * Called once per loss, on the watchdog thread, when a leader loses the lock. Stop streaming
     * and return: do not call {@link LeaderElection#awaitLeadership()} or run the relay from the
     * callback, the watchdog of the next leadership runs on the same thread.
     */
    public Builder onLeadershipLost(Runnable onLeadershipLost) {
      this.onLeadershipLost = onLeadershipLost;
      return this;
    }

    /** Validates every setting and creates the election (no connection is opened yet). */
    public LeaderElection build() {
      Problems p = new Problems("LeaderElection");
      p.check(
          jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:"),
          "jdbcUrl",
          jdbcUrl == null ? "missing" : PgConnections.maskQuery(jdbcUrl),
          "give jdbc:postgresql://host:port/database");
      p.check(
          lockName == null || lockName.isBlank(),
          "lockName",
          lockName == null ? "missing" : "'" + lockName + "'",
          "give the name all replicas share, e.g. unpoll-relay-orders");
      p.check(
          instanceName == null || instanceName.isBlank(),
          "instanceName",
          instanceName,
          "give a non-blank name or leave the default");
      checkPositive(p, "checkInterval", checkInterval);
      checkPositive(p, "retryInterval", retryInterval);
      checkPositive(p, "sessionTimeout", sessionTimeout);
      p.check(onLeadershipLost == null, "onLeadershipLost", "null", "give a callback that stops");
      p.throwIfAny();
      return new LeaderElection(this);
    }

    private static void checkPositive(Problems p, String name, Duration d) {
      p.check(
          d == null || d.isNegative() || d.isZero() || d.compareTo(Duration.ofHours(1)) > 0,
          name,
          d,
          "give a duration between 1ms and 1h");
    }

    private static String defaultInstanceName() {
      String host = System.getenv("HOSTNAME");
      return (host == null || host.isBlank() ? "relay" : host)
          + "-"
          + ProcessHandle.current().pid();
    }
  }
}
