package dev.unpoll.samples.orders.boot;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A downstream service's legacy poller, the thing the migration retires: every interval it claims
 * its table's pending rows with {@code FOR UPDATE SKIP LOCKED}, runs the service's row logic on
 * each and marks it DONE, in one transaction per batch.
 */
public final class LegacyPoller implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LegacyPoller.class);
  private static final int BATCH = 100;

  private final DataSource dataSource;
  private final Downstream service;
  private final String claim;
  private final String markDone;
  private final AtomicLong handled = new AtomicLong();
  private ScheduledExecutorService scheduler;

  public LegacyPoller(DataSource dataSource, Downstream service) {
    this.dataSource = dataSource;
    this.service = service;
    this.claim =
        "SELECT id, order_id, event_type, payload::text, created_at FROM "
            + service.table()
            + " WHERE status = 'NEW' ORDER BY id LIMIT "
            + BATCH
            + " FOR UPDATE SKIP LOCKED";
    this.markDone =
        "UPDATE "
            + service.table()
            + " SET status = 'DONE', processed_at = clock_timestamp() WHERE id = ?";
  }

  /** Polls every {@code interval} until {@link #stop()}. */
  public synchronized void start(Duration interval) {
    if (scheduler != null) {
      return;
    }
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, service.service() + "-poller");
              t.setDaemon(true);
              return t;
            });
    scheduler.scheduleWithFixedDelay(
        this::pollQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops polling and waits for a poll in progress to finish. */
  public synchronized void stop() {
    if (scheduler == null) {
      return;
    }
    scheduler.shutdown();
    try {
      scheduler.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    scheduler = null;
  }

  /** Rows this poller handled so far. */
  public long handled() {
    return handled.get();
  }

  private void pollQuietly() {
    try {
      while (pollOnce() == BATCH) {
        // a full batch: there may be more right away
      }
    } catch (SQLException | RuntimeException e) {
      LOG.warn("{} poll failed: {}", service.service(), e.toString());
    }
  }

  /** One poll: claims up to 100 pending rows, handles them, marks them DONE, commits. */
  public int pollOnce() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        List<IntegrationRow> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(claim);
            ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows.add(
                new IntegrationRow(
                    rs.getLong(1),
                    rs.getLong(2),
                    rs.getString(3),
                    rs.getString(4),
                    rs.getObject(5, OffsetDateTime.class)));
          }
        }
        try (PreparedStatement done = c.prepareStatement(markDone)) {
          for (IntegrationRow row : rows) {
            service.handle(c, row, "poller");
            done.setLong(1, row.id());
            done.addBatch();
          }
          done.executeBatch();
        }
        c.commit();
        handled.addAndGet(rows.size());
        return rows.size();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  @Override
  public void close() {
    stop();
  }
}
