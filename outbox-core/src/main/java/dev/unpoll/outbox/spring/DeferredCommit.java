package dev.unpoll.outbox.spring;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.internal.EncodedEvent;
import dev.unpoll.outbox.internal.OutboxAccess;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.transaction.support.ResourceHolderSupport;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The events {@link SpringOutbox} with deferToCommit holds for one Spring transaction (one
 * connection), written in {@link #beforeCommit} together with the {@code COMMIT}.
 *
 * <p>Spring's {@code AbstractPlatformTransactionManager.processCommit} runs every synchronization's
 * {@code beforeCommit}, sorted by order, then every {@code beforeCompletion}, then {@code doCommit}
 * ({@code connection.commit()}). This synchronization sorts last ({@link
 * Ordered#LOWEST_PRECEDENCE}, and among equals Spring keeps registration order). When it is the
 * last one and no other resource (an ORM session, which flushes in {@code doCommit}) is
 * synchronized with the transaction, it sends the events and {@code COMMIT} in one round trip;
 * pgjdbc then sees the transaction ended and the manager's {@code commit()} sends nothing.
 * Otherwise something may still write after it, so it writes the events without the {@code COMMIT}
 * and lets the manager commit: one round trip more, still one transaction. A failure throws from
 * {@code beforeCommit}, where Spring rolls the transaction back and rethrows to the caller.
 *
 * <p>Savepoints ({@code PROPAGATION_NESTED}, {@code TransactionStatus.createSavepoint()}): Spring
 * tells every synchronization when one is created or rolled back to; the events held since then are
 * dropped. A savepoint created before the first deferred event is unknown here, and everything held
 * came after it. {@code REQUIRES_NEW}: Spring suspends the outer transaction's synchronizations, so
 * the inner transaction gets its own instance, committed with it.
 */
final class DeferredCommit implements TransactionSynchronization {
  private static final Logger LOG = LoggerFactory.getLogger(DeferredCommit.class);

  private record Held(Outbox outbox, EncodedEvent event) {}

  private final Connection connection;
  private final List<Held> held = new ArrayList<>();
  private final Map<Object, Integer> savepoints = new IdentityHashMap<>();

  private DeferredCommit(Connection connection) {
    this.connection = connection;
  }

  /**
   * The instance of the current transaction on {@code connection}, registered on first use. One per
   * connection, shared by every deferring SpringOutbox on it, so one COMMIT ends the transaction.
   */
  static DeferredCommit on(Connection connection) {
    for (TransactionSynchronization s : TransactionSynchronizationManager.getSynchronizations()) {
      if (s instanceof DeferredCommit d && d.connection == connection) {
        return d;
      }
    }
    DeferredCommit d = new DeferredCommit(connection);
    TransactionSynchronizationManager.registerSynchronization(d);
    return d;
  }

  void hold(Outbox outbox, List<EncodedEvent> events) {
    for (EncodedEvent e : events) {
      held.add(new Held(outbox, e));
    }
  }

  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }

  @Override
  public void savepoint(Object savepoint) {
    savepoints.put(savepoint, held.size());
  }

  @Override
  public void savepointRollback(Object savepoint) {
    Integer mark = savepoints.get(savepoint);
    // unknown: created before this instance was registered, so all it holds came after it
    int keep = mark == null ? 0 : Math.min(mark, held.size());
    held.subList(keep, held.size()).clear();
  }

  @Override
  public void beforeCommit(boolean readOnly) {
    if (held.isEmpty()) {
      return;
    }
    List<Held> events = new ArrayList<>(held);
    held.clear();
    String notLast = whatMayWriteAfter();
    boolean commit = notLast == null;
    if (!commit) {
      LOG.debug("outbox events written without the COMMIT: {}", notLast);
    }
    // consecutive events of the same Outbox are one write; the last write carries the COMMIT
    int from = 0;
    while (from < events.size()) {
      Outbox outbox = events.get(from).outbox();
      int to = from;
      List<EncodedEvent> group = new ArrayList<>();
      while (to < events.size() && events.get(to).outbox() == outbox) {
        group.add(events.get(to).event());
        to++;
      }
      OutboxAccess.get().writeAtCommit(outbox, connection, group, commit && to == events.size());
      from = to;
    }
  }

  /** Why something may write after this synchronization's beforeCommit; null if nothing may. */
  private String whatMayWriteAfter() {
    List<TransactionSynchronization> all = TransactionSynchronizationManager.getSynchronizations();
    if (all.isEmpty() || all.get(all.size() - 1) != this) {
      return "another synchronization runs its beforeCommit after this one";
    }
    for (Object resource : TransactionSynchronizationManager.getResourceMap().values()) {
      if (resource instanceof ResourceHolderSupport holder
          && !(resource instanceof ConnectionHolder)
          && holder.isSynchronizedWithTransaction()) {
        return resource.getClass().getName() + " is synchronized with the transaction";
      }
    }
    return null;
  }

  @Override
  public void afterCompletion(int status) {
    held.clear();
    savepoints.clear();
  }
}
