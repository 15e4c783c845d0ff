package dev.unpoll.consumer.spring;

import dev.unpoll.consumer.ConsumerException;
import dev.unpoll.consumer.EventHandler;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.InboundEvent;
import dev.unpoll.consumer.Outcome;
import java.sql.Connection;
import java.util.Objects;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The one bean a {@code @KafkaListener} method needs to run idempotently:
 *
 * <pre>{@code
 * @KafkaListener(topics = "orders")
 * void on(ConsumerRecord<String, String> record) {
 *   idempotent.process(record, (event, connection) -> orders.apply(record.value()));
 * }
 * }</pre>
 *
 * <p>The key is recorded and the handler runs in one database transaction of the given {@code
 * DataSourceTransactionManager} ({@code PROPAGATION_REQUIRED}): the listener's own transaction when
 * it has one (a {@code @Transactional} listener method), a new one otherwise. {@code JdbcTemplate}
 * and {@code DataSourceUtils} calls inside the handler join it. A duplicate returns {@link
 * Outcome#DUPLICATE} without running the handler. Exceptions propagate, so the container's error
 * handler ({@link SpringKafkaDefaults#errorHandler}) retries and dead-letters, and the container
 * commits the offset only after the listener returned, that is after the database commit.
 *
 * <p>Do not set the container's {@code transactionManager} to the {@code
 * DataSourceTransactionManager} (spring-kafka 4 deprecates it for removal and routes failures to
 * the {@code AfterRollbackProcessor} instead of the error handler).
 */
public final class SpringIdempotentConsumer {
  private final IdempotentConsumer consumer;
  private final DataSource dataSource;
  private final TransactionTemplate transactions;

  /**
   * @param consumer the idempotent consumer (store, group, mode, metrics)
   * @param transactionManager a {@link DataSourceTransactionManager} over {@code
   *     consumer.dataSource()}
   * @throws ConsumerException if the transaction manager manages another data source
   */
  public SpringIdempotentConsumer(
      IdempotentConsumer consumer, PlatformTransactionManager transactionManager) {
    this.consumer = Objects.requireNonNull(consumer, "consumer");
    Objects.requireNonNull(transactionManager, "transactionManager");
    this.dataSource = consumer.dataSource();
    if (transactionManager instanceof DataSourceTransactionManager dstm
        && dstm.getDataSource() != dataSource) {
      throw new ConsumerException(
          "invalid SpringIdempotentConsumer configuration:\n  - transactionManager: manages "
              + dstm.getDataSource()
              + " but the consumer writes to "
              + dataSource
              + "; give both the same DataSource so the key and the effect commit together");
    }
    this.transactions = new TransactionTemplate(transactionManager);
    transactions.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRED);
  }

  /** The underlying consumer. */
  public IdempotentConsumer consumer() {
    return consumer;
  }

  /** Processes the record with the consumer's configured handler (or shadow mode). */
  public Outcome process(ConsumerRecord<?, ?> record) {
    return process(record, null);
  }

  /**
   * Processes the record with {@code handler} in the listener's transaction.
   *
   * @param handler the effect; null to use the consumer's configured handler
   */
  public Outcome process(ConsumerRecord<?, ?> record, EventHandler handler) {
    InboundEvent event = InboundEvent.of(record);
    boolean joined = TransactionSynchronizationManager.isActualTransactionActive();
    Outcome outcome =
        transactions.execute(
            status -> {
              Connection c = DataSourceUtils.getConnection(dataSource);
              try {
                return handler == null
                    ? consumer.processInTransaction(c, event)
                    : consumer.processInTransaction(c, event, handler);
              } finally {
                DataSourceUtils.releaseConnection(c, dataSource);
              }
            });
    if (joined && TransactionSynchronizationManager.isSynchronizationActive()) {
      TransactionSynchronizationManager.registerSynchronization(
          new TransactionSynchronization() {
            @Override
            public void afterCommit() {
              consumer.committed(event, outcome);
            }
          });
    } else {
      consumer.committed(event, outcome);
    }
    return outcome;
  }
}
