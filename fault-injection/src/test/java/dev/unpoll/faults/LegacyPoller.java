package dev.unpoll.faults;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * The legacy poller of {@code fi.jobs} as such pollers are written: every second it takes a batch
 * of {@code NEW} rows with {@code FOR UPDATE SKIP LOCKED} and marks them {@code WORKING} (its
 * in-progress status); then handles each in a transaction of its own that applies the effect and
 * sets {@code DONE}. A share of the rows fail ({@code FAILED}) and are re-queued ({@code NEW}) on
 * the next round. Its effect is the consumer's: one row in {@code fi.effects} per application.
 */
final class LegacyPoller implements AutoCloseable {
  private final DataSource dataSource;
  private final Random random;
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicLong handled = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private volatile Throwable failure;
  private Thread thread;

  LegacyPoller(DataSource dataSource, long seed) {
    this.dataSource = dataSource;
    this.random = new Random(seed);
  }

  void start() {
    running.set(true);
    thread =
        new Thread(
            () -> {
              while (running.get()) {
                try (Connection c = dataSource.getConnection()) {
                  while (running.get()) {
                    round(c);
                    Thread.sleep(1_000); // the poller's interval
                  }
                } catch (InterruptedException e) {
                  return;
                } catch (SQLException e) {
                  // the server went away: poll again on a new connection
                } catch (Throwable t) {
                  failure = t;
                  return;
                }
              }
            },
            "legacy-poller");
    thread.setDaemon(true);
    thread.start();
  }

  private void round(Connection c) throws SQLException {
    c.setAutoCommit(true);
    try (Statement s = c.createStatement()) {
      s.executeUpdate("UPDATE fi.jobs SET status = 'NEW' WHERE status = 'FAILED'"); // re-queue
    }
    c.setAutoCommit(false);
    List<Long> batch = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT id FROM fi.jobs WHERE status = 'NEW' ORDER BY id LIMIT 500"
                    + " FOR UPDATE SKIP LOCKED")) {
      while (rs.next()) {
        batch.add(rs.getLong(1));
      }
    }
    if (batch.isEmpty()) {
      c.commit();
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement("UPDATE fi.jobs SET status = 'WORKING' WHERE id = ANY (?)")) {
      Array ids = c.createArrayOf("bigint", batch.toArray());
      ps.setArray(1, ids);
      ps.executeUpdate();
    }
    c.commit();
    for (long id : batch) {
      boolean fails;
      synchronized (random) {
        fails = random.nextInt(50) == 0; // 2 %
      }
      if (fails) {
        try (PreparedStatement ps =
            c.prepareStatement("UPDATE fi.jobs SET status = 'FAILED' WHERE id = ?")) {
          ps.setLong(1, id);
          ps.executeUpdate();
        }
        c.commit();
        failed.incrementAndGet();
        continue;
      }
      LedgerConsumer.apply(c, "fi.jobs:" + id, "legacy", null, null);
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE fi.jobs SET status = 'DONE' WHERE id = ? AND status = 'WORKING'")) {
        ps.setLong(1, id);
        if (ps.executeUpdate() != 1) {
          throw new IllegalStateException("row " + id + " left WORKING while the poller had it");
        }
      }
      c.commit();
      handled.incrementAndGet();
    }
  }

  long handled() {
    return handled.get();
  }

  long failed() {
    return failed.get();
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    if (thread != null) {
      thread.join(30_000);
    }
    if (failure != null) {
      throw new IllegalStateException("the poller failed", failure);
    }
  }
}
