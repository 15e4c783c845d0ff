package dev.unpoll.outbox.spring;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
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
 * <p>By default each {@code publish} writes at once, one round trip of its own. Built with {@link
 * Builder#deferToCommit(boolean) deferToCommit(true)}, it holds the events until the transaction
 * commits and sends them together with the {@code COMMIT}, in one round trip, as {@link
 * Outbox#publishAllAndCommit} does for plain JDBC. Events published inside a savepoint that is
 * rolled back ({@code PROPAGATION_NESTED}) are dropped; a {@code REQUIRES_NEW} transaction commits
 * its own events. When another synchronization or an ORM session may still write after it, it
 * writes the events without the {@code COMMIT} and Spring commits as usual (one round trip more,
 * never a split transaction). Needs the PostgreSQL JDBC driver.
 *
 * <p>Needs spring-jdbc and spring-tx, which unpoll-outbox-core declares optional.
 */
public final class SpringOutbox {
  private final Outbox outbox;
  private final DataSource dataSource;
  private final boolean deferToCommit;

  private SpringOutbox(Outbox outbox, DataSource dataSource, boolean deferToCommit) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.deferToCommit = deferToCommit;
  }

  /**
   * A publisher joining the transactions Spring manages for {@code dataSource} (the same instance
   * the transaction manager uses), writing each event at once.
   */
  public static SpringOutbox of(Outbox outbox, DataSource dataSource) {
    return new SpringOutbox(outbox, dataSource, false);
  }

  /** A builder; {@code outbox} and {@code dataSource} are required. */
  public static Builder builder() {
    return new Builder();
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

  /**
   * Writes {@code events} in the current Spring transaction, in one round trip; with deferToCommit,
   * holds them and writes them with the transaction's {@code COMMIT}.
   *
   * @throws OutboxException when no Spring transaction is active on this DataSource, or as {@link
   *     Outbox#publishAll(Connection, Collection)}; with deferToCommit, a payload that cannot be
   *     serialized throws here, and a write the database refuses throws from the commit, which
   *     rolls the whole transaction back
   */
  public void publishAll(Collection<OutboxEvent> events) {
    Objects.requireNonNull(events, "events");
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
      if (!deferToCommit || !DeferredCommit.hold(outbox, connection, events)) {
        outbox.publishAll(connection, events);
      }
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

  /** Whether events are held and written with the transaction's {@code COMMIT}. */
  public boolean deferToCommit() {
    return deferToCommit;
  }

  @Override
  public String toString() {
    return "SpringOutbox[" + outbox + (deferToCommit ? ", deferred to commit" : "") + "]";
  }

  /** Configures a {@link SpringOutbox}; {@link #build()} validates. */
  public static final class Builder {
    private Outbox outbox;
    private DataSource dataSource;
    private boolean deferToCommit;

    private Builder() {}

    /** The writer (table, strategy, serializer). Required. */
    public Builder outbox(Outbox outbox) {
      this.outbox = outbox;
      return this;
    }

    /** The DataSource the transaction manager uses (the same instance). Required. */
    public Builder dataSource(DataSource dataSource) {
      this.dataSource = dataSource;
      return this;
    }

    /**
     * Hold the events of each transaction and write them together with its {@code COMMIT}, in one
     * round trip, instead of one round trip per publish. Default false.
     */
    public Builder deferToCommit(boolean deferToCommit) {
      this.deferToCommit = deferToCommit;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @throws OutboxException naming every missing setting
     */
    public SpringOutbox build() {
      List<String> problems = new ArrayList<>();
      if (outbox == null) {
        problems.add("outbox: required, e.g. Outbox.builder().build()");
      }
      if (dataSource == null) {
        problems.add("dataSource: required, the DataSource your transaction manager uses");
      }
      if (!problems.isEmpty()) {
        throw new OutboxException(
            "invalid SpringOutbox configuration: " + String.join("; ", problems));
      }
      return new SpringOutbox(outbox, dataSource, deferToCommit);
    }
  }
}
