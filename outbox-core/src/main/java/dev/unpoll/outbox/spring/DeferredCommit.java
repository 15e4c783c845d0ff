package dev.unpoll.outbox.spring;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxException;
import dev.unpoll.outbox.internal.EncodedEvent;
import dev.unpoll.outbox.internal.OutboxAccess;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Collection;
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
 * <p>Events published while the manager is already committing stay inside the transaction: in a
 * beforeCommit that runs before this one they are held; after this one wrote without the {@code
 * COMMIT}, or when no instance was registered in time (Spring calls only the synchronizations it
 * had when it began), they are written at once, as without deferToCommit. Once the {@code COMMIT}
 * is sent, or this beforeCompletion (the last) has run, publishing is refused.
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

  private static final String MANAGER =
      "org.springframework.transaction.support.AbstractPlatformTransactionManager";

  /** Where the transaction's commit is, from this synchronization's point of view. */
  private enum Phase {
    /** Before its beforeCommit: events are held. */
    HOLDING,
    /** Its beforeCommit wrote the events without the COMMIT: more are written at once. */
    WRITTEN,
    /**
     * Its beforeCommit sent the COMMIT, or its beforeCompletion ran: the transaction takes no more.
     */
    CLOSED
  }

  private final Connection connection;
  private final List<Held> held = new ArrayList<>();
  private Phase phase = Phase.HOLDING;
  private final Map<Object, Integer> savepoints = new IdentityHashMap<>();

  private DeferredCommit(Connection connection) {
    this.connection = connection;
  }

  /**
   * Holds {@code events} for the COMMIT of the current transaction on {@code connection}, in the
   * one instance per connection (registered on first use, shared by every deferring SpringOutbox on
   * it, so one COMMIT ends the transaction). Returns false when they cannot be held and must be
   * written at once, still inside the transaction: the manager is already committing and no
   * instance was registered in time (Spring would not call one registered now before its COMMIT),
   * or this instance has already written its events without the COMMIT.
   *
   * @throws OutboxException when this instance already sent the transaction's COMMIT
   */
  static boolean hold(Outbox outbox, Connection connection, Collection<OutboxEvent> events) {
    DeferredCommit d = null;
    for (TransactionSynchronization s : TransactionSynchronizationManager.getSynchronizations()) {
      if (s instanceof DeferredCommit c && c.connection == connection) {
        d = c;
      }
    }
    if (d == null) {
      if (committing()) {
        return false;
      }
      d = new DeferredCommit(connection);
      TransactionSynchronizationManager.registerSynchronization(d);
    }
    switch (d.phase) {
      case HOLDING -> {
        for (EncodedEvent e : OutboxAccess.get().encode(outbox, events)) {
          d.held.add(new Held(outbox, e));
        }
        return true;
      }
      case WRITTEN -> {
        return false;
      }
      default ->
          throw new OutboxException(
              "the transaction has sent, or is about to send, its COMMIT with its outbox events,"
                  + " so this event cannot join it: publish before the transaction commits, not in"
                  + " a beforeCompletion, afterCommit or afterCompletion callback");
    }
  }

  /** Whether this thread is inside a Spring transaction manager's commit processing. */
  private static boolean committing() {
    return StackWalker.getInstance()
        .walk(
            frames ->
                frames.anyMatch(
                    f ->
                        f.getMethodName().equals("processCommit")
                            && f.getClassName().equals(MANAGER)));
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
    phase = Phase.WRITTEN;
    if (held.isEmpty()) {
      return;
    }
    List<Held> events = new ArrayList<>(held);
    held.clear();
    String notLast = whatMayWriteAfter();
    boolean commit = notLast == null;
    if (commit) {
      phase = Phase.CLOSED; // also if it fails: the manager rolls back, nothing more joins
    }
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
  public void beforeCompletion() {
    // last of the beforeCompletion callbacks: only doCommit (or doRollback) follows
    phase = Phase.CLOSED;
  }

  @Override
  public void afterCompletion(int status) {
    phase = Phase.CLOSED;
    held.clear();
    savepoints.clear();
  }
}
