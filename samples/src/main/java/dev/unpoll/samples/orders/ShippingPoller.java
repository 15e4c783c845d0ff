package dev.unpoll.samples.orders;

import dev.unpoll.contract.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
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
 * Service B's legacy poller, the thing unpoll retires: every interval it claims pending rows with
 * {@code FOR UPDATE SKIP LOCKED}, runs the {@link ShipmentHandler} on each and marks it DONE, all
 * in one transaction per batch.
 */
public final class ShippingPoller implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShippingPoller.class);

  /** The table the sample's poller reads. */
  public static final String TABLE = "shop.order_integration";

  private final DataSource dataSource;
  private final String claimSql;
  private final String markDoneSql;
  private final ShipmentHandler handler = new ShipmentHandler("poller");
  private final AtomicLong queries = new AtomicLong();
  private final AtomicLong handled = new AtomicLong();
  private ScheduledExecutorService scheduler;

  public ShippingPoller(DataSource dataSource) {
    this(dataSource, TABLE);
  }

  /**
   * A poller of another table with the same columns as {@code shop.order_integration} ({@code
   * schema.table} or {@code table}); the benchmarks run ten of them on idle tables.
   */
  public ShippingPoller(DataSource dataSource, String table) {
    this.dataSource = dataSource;
    this.claimSql = claim(table);
    this.markDoneSql = markDone(table);
  }

  private static String claim(String table) {
    return "SELECT id, order_id, event_type, payload::text, created_at FROM "
        + TableName.parse(table).quoted()
        + " WHERE status = 'NEW' ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED";
  }

  private static String markDone(String table) {
    return "UPDATE "
        + TableName.parse(table).quoted()
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
              Thread t = new Thread(r, "legacy-shipping-poller");
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

  public synchronized boolean isRunning() {
    return scheduler != null;
  }

  /** Polling queries run so far (each one, even when it finds nothing). */
  public long queries() {
    return queries.get();
  }

  public long handled() {
    return handled.get();
  }

  private void pollQuietly() {
    try {
      while (pollOnce() == 100) {
        // a full batch: there may be more right away
      }
    } catch (SQLException | RuntimeException e) {
      LOG.warn("poll failed: {}", e.toString());
    }
  }

  /** One poll: claims up to 100 pending rows, handles them, marks them DONE, commits. */
  public int pollOnce() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        queries.incrementAndGet();
        List<IntegrationRow> rows = new ArrayList<>();
        try (PreparedStatement claim = c.prepareStatement(claimSql);
            ResultSet rs = claim.executeQuery()) {
          while (rs.next()) {
            rows.add(
                new IntegrationRow(
                    rs.getLong(1),
                    rs.getLong(2),
                    rs.getString(3),
                    rs.getString(4),
                    rs.getObject(5, java.time.OffsetDateTime.class)));
          }
        }
        try (PreparedStatement done = c.prepareStatement(markDoneSql)) {
          for (IntegrationRow row : rows) {
            handler.handle(c, row);
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
