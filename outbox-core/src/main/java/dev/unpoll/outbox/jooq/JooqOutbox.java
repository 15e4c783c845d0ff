package dev.unpoll.outbox.jooq;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxException;
import dev.unpoll.outbox.internal.SpringTransactions;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.jooq.Configuration;
import org.jooq.DSLContext;
import org.jooq.TransactionListener;
import org.jooq.TransactionProvider;
import org.jooq.impl.DefaultTransactionProvider;

/**
 * Publishes through a jOOQ {@link DSLContext}, in its transaction: call it with the context jOOQ
 * hands to {@code dsl.transaction(cfg -> ...)} (that is, {@code cfg.dsl()}), or with a context on a
 * Spring-managed DataSource inside a Spring transaction. Refuses to write outside a transaction.
 * Thread-safe.
 *
 * <p>By default each {@code publish} writes at once, one round trip of its own. Built with {@link
 * Builder#deferToCommit(boolean) deferToCommit(true)}, it holds the events until the top-level
 * {@code dsl.transaction(...)} commits and sends them together with its {@code COMMIT}, in one
 * round trip; that needs {@link #transactionListener()} in the DSLContext's configuration and
 * jOOQ's default transaction provider. Events of a nested transaction that rolls back (a savepoint)
 * are dropped. Needs the PostgreSQL JDBC driver.
 *
 * <p>Needs org.jooq:jooq, which unpoll-outbox-core declares optional.
 */
public final class JooqOutbox {
  private final Outbox outbox;
  private final boolean deferToCommit;

  private JooqOutbox(Outbox outbox, boolean deferToCommit) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.deferToCommit = deferToCommit;
  }

  /** A jOOQ publisher on {@code outbox}, writing each event at once. */
  public static JooqOutbox of(Outbox outbox) {
    return new JooqOutbox(outbox, false);
  }

  /** A builder; {@code outbox} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The listener that writes the held events of a deferring JooqOutbox with the {@code COMMIT} of
   * the top-level {@code dsl.transaction(...)}: {@code DSL.using(configuration.derive(
   * JooqOutbox.transactionListener()))}. One listener serves every JooqOutbox; put it after any
   * other transaction listener (when another follows it, the events are written without the {@code
   * COMMIT}, which jOOQ then sends: one round trip more, one transaction still).
   */
  public static TransactionListener transactionListener() {
    return DeferredCommitListener.INSTANCE;
  }

  /**
   * Writes {@code event} through {@code dsl}'s connection in its current transaction; with
   * deferToCommit, with the transaction's {@code COMMIT}.
   *
   * @throws OutboxException when {@code dsl} is not inside a transaction, or as {@link
   *     Outbox#publish(Connection, OutboxEvent)}
   */
  public void publish(DSLContext dsl, OutboxEvent event) {
    publishAll(dsl, List.of(Objects.requireNonNull(event, "event")));
  }

  /**
   * Writes {@code events} through {@code dsl} in its current transaction, in one round trip; with
   * deferToCommit, holds them and writes them with the top-level transaction's {@code COMMIT}.
   *
   * @throws OutboxException when {@code dsl} is not inside a transaction (with deferToCommit: not
   *     inside a {@code dsl.transaction(...)} that has {@link #transactionListener()}), or as
   *     {@link Outbox#publishAll(Connection, Collection)}; with deferToCommit a write the database
   *     refuses throws from {@code dsl.transaction(...)}, which rolls everything back
   */
  public void publishAll(DSLContext dsl, Collection<OutboxEvent> events) {
    Objects.requireNonNull(dsl, "dsl");
    Objects.requireNonNull(events, "events");
    dsl.connection(
        connection -> {
          if (connection.getAutoCommit()) {
            throw new OutboxException(
                "the DSLContext is not inside a transaction (its connection is in auto-commit"
                    + " mode), so the event could not commit with your business write: publish"
                    + " inside dsl.transaction(cfg -> jooqOutbox.publish(cfg.dsl(), event)) or a"
                    + " Spring transaction on the DSLContext's DataSource");
          }
          if (deferToCommit) {
            hold(dsl.configuration(), connection, events);
          } else {
            outbox.publishAll(connection, events);
          }
        });
  }

  private void hold(Configuration configuration, Connection connection, Collection<OutboxEvent> e) {
    if (SpringTransactions.bound(connection)) {
      throw new OutboxException(
          "JooqOutbox with deferToCommit: this DSLContext's connection belongs to a Spring-managed"
              + " transaction, which Spring commits, not jOOQ: use SpringOutbox built with"
              + " deferToCommit(true) on the same DataSource, or JooqOutbox without deferToCommit");
    }
    if (!DeferredCommitListener.installedIn(configuration)) {
      throw new OutboxException(
          "JooqOutbox with deferToCommit holds events until jOOQ commits, but this DSLContext's"
              + " configuration has no JooqOutbox.transactionListener(), so nothing would write"
              + " them: build the DSLContext with"
              + " DSL.using(configuration.derive(JooqOutbox.transactionListener())), or use"
              + " JooqOutbox without deferToCommit");
    }
    TransactionProvider provider = configuration.transactionProvider();
    if (!(provider instanceof DefaultTransactionProvider p) || !p.nested()) {
      throw new OutboxException(
          "JooqOutbox with deferToCommit needs jOOQ's DefaultTransactionProvider with nested"
              + " transactions as savepoints (the default), so that a nested transaction that"
              + " rolls back drops its events; this DSLContext uses "
              + provider
              + ": use the default provider, or JooqOutbox without deferToCommit");
    }
    DeferredCommitListener.State state = DeferredCommitListener.state(configuration);
    if (state == null) {
      throw new OutboxException(
          "JooqOutbox with deferToCommit writes the events when dsl.transaction(...) commits,"
              + " but this DSLContext is in a transaction jOOQ does not manage: publish inside"
              + " dsl.transaction(cfg -> jooqOutbox.publish(cfg.dsl(), event)), or use JooqOutbox"
              + " without deferToCommit");
    }
    if (!state.hold(outbox, e)) {
      outbox.publishAll(connection, e);
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
    return "JooqOutbox[" + outbox + (deferToCommit ? ", deferred to commit" : "") + "]";
  }

  /** Configures a {@link JooqOutbox}; {@link #build()} validates. */
  public static final class Builder {
    private Outbox outbox;
    private boolean deferToCommit;

    private Builder() {}

    /** The writer (table, strategy, serializer). Required. */
    public Builder outbox(Outbox outbox) {
      this.outbox = outbox;
      return this;
    }

    /**
     * Hold the events of each {@code dsl.transaction(...)} and write them together with its {@code
     * COMMIT}, in one round trip; needs {@link JooqOutbox#transactionListener()} in the
     * DSLContext's configuration. Default false.
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
    public JooqOutbox build() {
      List<String> problems = new ArrayList<>();
      if (outbox == null) {
        problems.add("outbox: required, e.g. Outbox.builder().build()");
      }
      if (!problems.isEmpty()) {
        throw new OutboxException(
            "invalid JooqOutbox configuration: " + String.join("; ", problems));
      }
      return new JooqOutbox(outbox, deferToCommit);
    }
  }
}
