package dev.unpoll.outbox.jooq;

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
import org.jooq.Configuration;
import org.jooq.TransactionContext;
import org.jooq.TransactionListener;
import org.jooq.TransactionListenerProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the events a deferring {@link JooqOutbox} publishes in a {@code dsl.transaction(...)} and
 * writes them with the top-level transaction's {@code COMMIT}, in one round trip.
 *
 * <p>jOOQ's {@code DefaultDSLContext} runs a transaction as: {@code beginStart}, {@code
 * provider.begin}, {@code beginEnd}, the callable, {@code commitStart}, {@code provider.commit},
 * {@code commitEnd}; when anything up to {@code provider.commit} throws (so also {@code
 * commitStart}): {@code rollbackStart}, {@code provider.rollback}, {@code rollbackEnd}, and the
 * exception reaches the caller. The state lives in the transaction's own {@link Configuration}
 * data, which jOOQ copies into a nested transaction's derived configuration and drops afterwards. A
 * nested transaction is a savepoint ({@code DefaultTransactionProvider} with nested = true): its
 * commit keeps its events for the top level, its rollback drops them.
 */
final class DeferredCommitListener implements TransactionListener {
  static final DeferredCommitListener INSTANCE = new DeferredCommitListener();
  private static final Logger LOG = LoggerFactory.getLogger(DeferredCommitListener.class);
  private static final Object KEY = new Object();

  /** The held events of one top-level transaction and where each nested one began. */
  static final class State {
    private final TransactionContext top;
    private final List<Outbox> outboxes = new ArrayList<>();
    private final List<EncodedEvent> held = new ArrayList<>();
    private final Map<TransactionContext, Integer> marks = new IdentityHashMap<>();
    private boolean written;
    private boolean closed;

    private State(TransactionContext top) {
      this.top = top;
    }

    /**
     * Holds {@code events} for the top-level COMMIT; false when the top-level commitStart has
     * already written the held events without the COMMIT (another listener follows and may still
     * publish), so these must be written at once, still inside the transaction.
     *
     * @throws OutboxException once the COMMIT was sent
     */
    boolean hold(Outbox outbox, Collection<OutboxEvent> events) {
      if (closed) {
        throw new OutboxException(
            "the jOOQ transaction has sent its COMMIT with its outbox events, so this event"
                + " cannot join it: publish inside dsl.transaction(...) before it returns, not in"
                + " a TransactionListener's commitEnd, or in a new dsl.transaction(...)");
      }
      if (written) {
        return false;
      }
      for (EncodedEvent e : OutboxAccess.get().encode(outbox, events)) {
        outboxes.add(outbox);
        held.add(e);
      }
      return true;
    }

    private void truncate(int size) {
      outboxes.subList(size, outboxes.size()).clear();
      held.subList(size, held.size()).clear();
    }
  }

  private DeferredCommitListener() {}

  /** The state of the transaction {@code configuration} belongs to, or null outside one. */
  static State state(Configuration configuration) {
    return (State) configuration.data(KEY);
  }

  /** Whether {@code configuration} has this listener installed. */
  static boolean installedIn(Configuration configuration) {
    for (TransactionListenerProvider p : configuration.transactionListenerProviders()) {
      if (p.provide() == INSTANCE) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void beginEnd(TransactionContext ctx) {
    State state = state(ctx.configuration());
    if (state == null) {
      state = new State(ctx);
      ctx.configuration().data(KEY, state);
    }
    state.marks.put(ctx, state.held.size());
  }

  @Override
  public void commitStart(TransactionContext ctx) {
    State state = state(ctx.configuration());
    if (state == null || state.top != ctx) {
      return; // a nested commit releases its savepoint: its events wait for the top level
    }
    boolean last = lastListener(ctx.configuration());
    state.written = true;
    state.closed = last && !state.held.isEmpty(); // also if it fails: jOOQ rolls back
    if (state.held.isEmpty()) {
      return;
    }
    List<Outbox> outboxes = new ArrayList<>(state.outboxes);
    List<EncodedEvent> events = new ArrayList<>(state.held);
    state.truncate(0);
    if (!last) {
      LOG.debug("outbox events written without the COMMIT: another transaction listener follows");
    }
    ctx.dsl()
        .connection(
            connection -> write(connection, outboxes, events, last)); // throws: jOOQ rolls back
  }

  private static void write(
      Connection connection, List<Outbox> outboxes, List<EncodedEvent> events, boolean commit) {
    int from = 0;
    while (from < events.size()) {
      Outbox outbox = outboxes.get(from);
      int to = from;
      while (to < events.size() && outboxes.get(to) == outbox) {
        to++;
      }
      OutboxAccess.get()
          .writeAtCommit(
              outbox, connection, events.subList(from, to), commit && to == events.size());
      from = to;
    }
  }

  private static boolean lastListener(Configuration configuration) {
    TransactionListenerProvider[] providers = configuration.transactionListenerProviders();
    return providers.length > 0 && providers[providers.length - 1].provide() == INSTANCE;
  }

  @Override
  public void commitEnd(TransactionContext ctx) {
    State state = state(ctx.configuration());
    if (state != null && state.top == ctx) {
      state.closed = true;
    }
  }

  @Override
  public void rollbackStart(TransactionContext ctx) {
    State state = state(ctx.configuration());
    if (state != null) {
      Integer mark = state.marks.get(ctx);
      state.truncate(mark == null ? 0 : Math.min(mark, state.held.size()));
    }
  }
}
