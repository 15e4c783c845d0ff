package dev.unpoll.outbox.internal;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import java.sql.Connection;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * What this module's framework adapters ({@code SpringOutbox}, {@code JooqOutbox}) need from an
 * {@link Outbox} beyond its public API: encode events now and write them later, with or without the
 * {@code COMMIT}. {@link Outbox} installs the one implementation when its class initializes (the
 * JDK's {@code SharedSecrets} pattern), so the methods stay out of the public API. Not for use
 * outside unpoll-outbox-core.
 */
public final class OutboxAccess {
  private static volatile Access access;

  private OutboxAccess() {}

  /** The operations. */
  public interface Access {
    /**
     * Encodes {@code events} as {@link Outbox#publishAll} would, without writing them.
     *
     * @throws dev.unpoll.outbox.OutboxException if a payload cannot be serialized
     */
    List<EncodedEvent> encode(Outbox outbox, Collection<OutboxEvent> events);

    /**
     * Writes {@code events} (at least one) through {@code connection}; with {@code andCommit} the
     * {@code COMMIT} travels in the same round trip. Does not roll back: the caller's transaction
     * manager does.
     *
     * @throws dev.unpoll.outbox.OutboxException when the database refuses the write or the commit
     */
    void writeAtCommit(
        Outbox outbox, Connection connection, List<EncodedEvent> events, boolean andCommit);
  }

  /** Called once, by {@link Outbox}'s static initializer. */
  public static void install(Access implementation) {
    access = Objects.requireNonNull(implementation, "implementation");
  }

  /** The implementation; the caller holds an {@link Outbox}, so its class is initialized. */
  public static Access get() {
    Access a = access;
    if (a == null) {
      throw new IllegalStateException("Outbox is not initialized");
    }
    return a;
  }
}
