package dev.unpoll.samples.orders;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;

/** The legacy cleanup job: deletes handled integration rows older than a retention. */
public final class CleanupJob {
  private final DataSource dataSource;

  public CleanupJob(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Returns how many rows it deleted. */
  public int run(Duration retention) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement delete =
            c.prepareStatement(
                "DELETE FROM shop.order_integration WHERE status = 'DONE'"
                    + " AND processed_at < clock_timestamp() - ?::interval")) {
      delete.setString(1, retention.toMillis() + " milliseconds");
      return delete.executeUpdate();
    }
  }
}
