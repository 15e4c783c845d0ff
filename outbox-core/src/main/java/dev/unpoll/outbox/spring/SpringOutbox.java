package dev.unpoll.outbox.spring;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Publishes through the connection of the Spring-managed transaction bound to a {@link DataSource}
 * ({@code @Transactional}, {@code TransactionTemplate}, with a {@code
 * DataSourceTransactionManager}, {@code JdbcTransactionManager} or {@code JpaTransactionManager} on
 * the same DataSource). Refuses to write when no Spring transaction is active. Thread-safe; make it
 * a bean.
 *
 * <p>Needs spring-jdbc and spring-tx, which unpoll-outbox-core declares optional.
 */
public final class SpringOutbox {
  private final Outbox outbox;
  private final DataSource dataSource;

  private SpringOutbox(Outbox outbox, DataSource dataSource) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  /**
   * A publisher joining the transactions Spring manages for {@code dataSource} (the same instance
   * the transaction manager uses).
   */
  public static SpringOutbox of(Outbox outbox, DataSource dataSource) {
    return new SpringOutbox(outbox, dataSource);
  }

  /**
   * Writes {@code event} in the current Spring transaction.
   *
   * @throws OutboxException when no Spring transaction is active, or as {@link
   *     Outbox#publish(Connection, OutboxEvent)}
   */
  public void publish(OutboxEvent event) {
    publishAll(List.of(Objects.requireNonNull(event, "event")));
  }

  /** Writes {@code events} in the current Spring transaction, in one round trip. */
  public void publishAll(Collection<OutboxEvent> events) {
    if (!TransactionSynchronizationManager.isActualTransactionActive()) {
      throw new OutboxException(
          "no Spring-managed transaction is active, so the event could not commit with your"
              + " business write: call SpringOutbox.publish inside a @Transactional method or"
              + " TransactionTemplate.execute(...) whose transaction manager uses the same"
              + " DataSource");
    }
    Connection connection = DataSourceUtils.getConnection(dataSource);
    try {
      if (autoCommit(connection)) {
        throw new OutboxException(
            "a Spring transaction is active, but not on this DataSource (its connection is in"
                + " auto-commit mode): give SpringOutbox.of(...) the same DataSource instance"
                + " the transaction manager uses");
      }
      outbox.publishAll(connection, events);
    } finally {
      DataSourceUtils.releaseConnection(connection, dataSource);
    }
  }

  private static boolean autoCommit(Connection connection) {
    try {
      return connection.getAutoCommit();
    } catch (SQLException e) {
      throw new OutboxException(
          "cannot read the connection's auto-commit mode: " + e.getMessage(), e);
    }
  }

  /** The underlying writer. */
  public Outbox outbox() {
    return outbox;
  }
}
