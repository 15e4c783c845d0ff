package dev.unpoll.relay.internal;

import io.debezium.connector.postgresql.PostgresConnector;
import io.debezium.connector.postgresql.PostgresConnectorTask;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Debezium's PostgreSQL connector whose task stops on a source error that no retry can fix (see
 * {@link SourceErrors}), instead of restarting without end. Transient errors are retried as
 * Debezium does.
 */
public final class StoppingPostgresConnector extends PostgresConnector {

  /** Used by the engine (reflection). */
  public StoppingPostgresConnector() {}

  @Override
  public Class<? extends Task> taskClass() {
    return StoppingTask.class;
  }

  /** The connector's task: a non-transient error ends the engine with that error. */
  public static final class StoppingTask extends PostgresConnectorTask {

    /** Used by the engine (reflection). */
    public StoppingTask() {}

    @Override
    public List<SourceRecord> doPoll() throws InterruptedException {
      try {
        return super.doPoll();
      } catch (RetriableException e) {
        Optional<SQLException> fatal = SourceErrors.nonTransient(e);
        if (fatal.isPresent()) {
          throw new ConnectException(
              "non-transient source error, not retried: " + fatal.get().getMessage(), e);
        }
        throw e;
      }
    }
  }
}
