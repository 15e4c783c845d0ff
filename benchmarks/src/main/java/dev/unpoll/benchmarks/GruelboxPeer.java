package dev.unpoll.benchmarks;

import com.gruelbox.transactionoutbox.Dialect;
import com.gruelbox.transactionoutbox.Instantiator;
import com.gruelbox.transactionoutbox.Persistor;
import com.gruelbox.transactionoutbox.ThreadLocalContextTransactionManager;
import com.gruelbox.transactionoutbox.TransactionManager;
import com.gruelbox.transactionoutbox.TransactionOutbox;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * O1 peer: gruelbox transaction-outbox as its README sets it up for plain JDBC: a {@link
 * TransactionManager} over the data source (here the benchmark's pool of one connection), the
 * default persistor for PostgreSQL, and {@code outbox.schedule(Service.class).method(...)} inside
 * {@code transactionManager.inTransactionThrows(...)}, whose connection also inserts the order.
 *
 * <p>What is measured is the write: the scheduled method does nothing, and the {@code Submitter}
 * that would run it right after the commit is replaced by one that does nothing, so no background
 * work (processing, marking the entry done) runs in any variant's slice; the entries stay pending,
 * as an unpoll event stays in its table until the relay reads it. {@code flush()} is never called.
 */
final class GruelboxPeer {

  /** The call the business transaction schedules; {@link #NOOP} is what would run it. */
  public interface OrderEvents {
    void orderCreated(long orderId, String payload);
  }

  private static final OrderEvents NOOP = (orderId, payload) -> {};

  /** Gruelbox's table (its default name). */
  static final String TABLE = "txno_outbox";

  private final ThreadLocalContextTransactionManager transactionManager;
  private final TransactionOutbox outbox;

  GruelboxPeer(DataSource dataSource) {
    transactionManager = TransactionManager.fromDataSource(dataSource);
    outbox =
        TransactionOutbox.builder()
            .transactionManager(transactionManager)
            .persistor(Persistor.forDialect(Dialect.POSTGRESQL_9))
            .instantiator(Instantiator.using(type -> NOOP))
            // the dispatcher off: nothing runs after the commit
            .submitter((entry, localExecutor) -> {})
            .build();
    outbox.initialize(); // its schema migrations, before any measured transaction
  }

  /** One business transaction: the order row and one scheduled call, committed. */
  void run(long id) throws SQLException {
    transactionManager.inTransactionThrows(
        tx -> {
          OrderTransactions.insertOrder(tx.connection(), id);
          outbox.schedule(OrderEvents.class).orderCreated(id, OrderTransactions.payload(id));
        });
  }
}
