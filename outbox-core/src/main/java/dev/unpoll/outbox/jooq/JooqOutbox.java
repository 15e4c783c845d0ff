package dev.unpoll.outbox.jooq;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxException;
import java.sql.Connection;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.jooq.DSLContext;

/**
 * Publishes through a jOOQ {@link DSLContext}, in its transaction: call it with the context jOOQ
 * hands to {@code dsl.transaction(cfg -> ...)} (that is, {@code cfg.dsl()}), or with a context on a
 * Spring-managed DataSource inside a Spring transaction. Refuses to write outside a transaction.
 * Thread-safe.
 *
 * <p>Needs org.jooq:jooq, which unpoll-outbox-core declares optional.
 */
public final class JooqOutbox {
  private final Outbox outbox;

  private JooqOutbox(Outbox outbox) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
  }

  /** A jOOQ publisher on {@code outbox}. */
  public static JooqOutbox of(Outbox outbox) {
    return new JooqOutbox(outbox);
  }

  /**
   * Writes {@code event} through {@code dsl}'s connection in its current transaction.
   *
   * @throws OutboxException when {@code dsl} is not inside a transaction, or as {@link
   *     Outbox#publish(Connection, OutboxEvent)}
   */
  public void publish(DSLContext dsl, OutboxEvent event) {
    publishAll(dsl, List.of(Objects.requireNonNull(event, "event")));
  }

  /** Writes {@code events} through {@code dsl} in its current transaction, in one round trip. */
  public void publishAll(DSLContext dsl, Collection<OutboxEvent> events) {
    Objects.requireNonNull(dsl, "dsl");
    dsl.connection(
        connection -> {
          if (connection.getAutoCommit()) {
            throw new OutboxException(
                "the DSLContext is not inside a transaction (its connection is in auto-commit"
                    + " mode), so the event could not commit with your business write: publish"
                    + " inside dsl.transaction(cfg -> jooqOutbox.publish(cfg.dsl(), event)) or a"
                    + " Spring transaction on the DSLContext's DataSource");
          }
          outbox.publishAll(connection, events);
        });
  }

  /** The underlying writer. */
  public Outbox outbox() {
    return outbox;
  }
}
