package dev.unpoll.testkit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A commit held between its WAL flush and its visibility, PostgreSQL's own way: on a server started
 * with {@link #SERVER_SETTINGS} (a synchronous standby that does not exist, {@code
 * synchronous_commit = local} for everyone else), this session alone asks for {@code
 * synchronous_commit = on}, so its commit is flushed (decodable: the relay may publish it) and then
 * waits in {@code SyncRep} before other sessions can see it. {@link #release()} ends the wait with
 * {@code pg_cancel_backend}: the commit is durable already, PostgreSQL only warns, and the rows
 * become visible. The race between a decoded commit and its visibility, made deterministic.
 *
 * <pre>{@code
 * try (HeldCommit writer = HeldCommit.open(db)) {
 *   writer.execute("INSERT INTO legacy.jobs (id) VALUES (1)");
 *   writer.commitAndHold();            // returns once the commit waits in SyncRep
 *   ...                                // the event is published; the row is not visible yet
 *   writer.release();                  // now it is
 * }
 * }</pre>
 */
public final class HeldCommit implements AutoCloseable {
  /**
   * The server settings the hold needs: {@code synchronous_standby_names} naming a standby that
   * never connects, and {@code synchronous_commit = local} as every other session's default.
   */
  public static final java.util.Map<String, String> SERVER_SETTINGS =
      java.util.Map.of(
          "synchronous_standby_names", "unpoll_absent_standby", "synchronous_commit", "local");

  private static final Duration WAIT = Duration.ofSeconds(60);
  private final TestPostgres db;
  private final Connection connection;
  private final long pid;
  private final ExecutorService committer =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "held-commit");
            t.setDaemon(true);
            return t;
          });
  private CompletableFuture<Void> commit;

  private HeldCommit(TestPostgres db, Connection connection, long pid) {
    this.db = db;
    this.connection = connection;
    this.pid = pid;
  }

  /** A session of {@code db} whose commits will be held; its transaction is open. */
  public static HeldCommit open(TestPostgres db) throws SQLException {
    Connection c = db.connect();
    try (Statement s = c.createStatement()) {
      s.execute("SET synchronous_commit = on");
      long pid;
      try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        pid = rs.getLong(1);
      }
      c.setAutoCommit(false);
      return new HeldCommit(db, c, pid);
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** The session's connection, in its open transaction. */
  public Connection connection() {
    return connection;
  }

  /** The session's backend process id. */
  public long pid() {
    return pid;
  }

  /** Runs one statement in the open transaction. */
  public void execute(String sql) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute(sql);
    }
  }

  /**
   * Sends the commit and returns once it waits in {@code SyncRep}: flushed, not yet visible.
   *
   * @throws IllegalStateException when the commit does not wait within 60 s (the server lacks
   *     {@link #SERVER_SETTINGS}) or ended on its own
   */
  public void commitAndHold() throws SQLException {
    commit =
        CompletableFuture.runAsync(
            () -> {
              try {
                connection.commit();
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            },
            committer);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!held()) {
      if (commit.isDone() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the commit of backend "
                + pid
                + " did not wait for a synchronous standby: start the server with"
                + " HeldCommit.SERVER_SETTINGS");
      }
      try {
        Thread.sleep(20); // polls the server's own view of the wait
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the commit to be held", e);
      }
    }
  }

  /** Whether the commit still waits in {@code SyncRep}. */
  public boolean held() throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT coalesce(wait_event, '') FROM pg_stat_activity WHERE pid = ?")) {
      ps.setLong(1, pid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && "SyncRep".equals(rs.getString(1));
      }
    }
  }

  /** Whether the commit has returned to its session (after {@link #release()}). */
  public boolean committed() {
    return commit != null && commit.isDone() && !commit.isCompletedExceptionally();
  }

  /**
   * Ends the wait ({@code pg_cancel_backend}) and waits until the commit returned: the rows are
   * visible from now on.
   */
  public void release() throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement("SELECT pg_cancel_backend(?)")) {
      ps.setInt(1, (int) pid); // a backend's pid is an int4
      ps.execute();
    }
    try {
      commit.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the held commit returned", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the held commit of backend " + pid + " failed", e);
    }
  }

  @Override
  public void close() throws SQLException {
    committer.shutdownNow();
    connection.close();
  }
}
