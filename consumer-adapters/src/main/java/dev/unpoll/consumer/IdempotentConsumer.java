package dev.unpoll.consumer;

import dev.unpoll.consumer.internal.HandlerTracing;
import dev.unpoll.consumer.internal.Metrics;
import dev.unpoll.consumer.internal.Validation;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handles each event's effect once although delivery is at-least-once: begin a transaction, record
 * the event's idempotency key (insert-if-absent), run the handler on the same connection, commit. A
 * key that is already recorded is a duplicate: skipped and counted. Offsets are the caller's
 * business and must be committed only after {@link #process} or {@link #processBatch} returned;
 * {@link KafkaConsumerRunner} and the Spring integration do that.
 *
 * <p>Three modes: the default runs the handler; {@link Builder#claim(DualRunClaim)} additionally
 * claims the legacy row from a still-running poller, and records receipt in the shadow ledger too
 * so that a migration can go back to shadow and forward again; {@link Builder#shadow()} only
 * records receipt in the shadow ledger.
 */
public final class IdempotentConsumer {
  private static final Logger LOG = LoggerFactory.getLogger(IdempotentConsumer.class);

  private final DataSource dataSource;
  private final String group;
  private final IdempotencyStore store;
  private final EventHandler handler;
  private final DualRunClaim claim;
  private final boolean shadow;
  private final KeyExtractor keyExtractor;
  private final MissingKeyPolicy missingKeyPolicy;
  private final boolean traceLink;
  private final Metrics metrics;

  private IdempotentConsumer(Builder b) {
    this.dataSource = b.dataSource;
    this.group = b.consumerGroup;
    this.store = b.store;
    this.handler = b.handler;
    this.claim = b.claim;
    this.shadow = b.shadow;
    this.keyExtractor = b.keyExtractor;
    this.missingKeyPolicy = b.missingKeyPolicy;
    this.traceLink = b.traceLink;
    this.metrics = new Metrics(b.meterRegistry, b.consumerGroup);
  }

  /** A builder; data source and consumer group are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The consumer group: Kafka's group id and the store's {@code consumer_group}. */
  public String consumerGroup() {
    return group;
  }

  /** The idempotency store. */
  public IdempotencyStore store() {
    return store;
  }

  /** True if this consumer can run on its own: it has a handler or is in shadow mode. */
  public boolean hasHandler() {
    return shadow || handler != null;
  }

  /** The data source the transactions run on. */
  public DataSource dataSource() {
    return dataSource;
  }

  /** Counts a failed attempt that will be retried; for integrations that retry themselves. */
  public void recordRetry(String topic) {
    metrics.retry(topic);
  }

  /** Counts an event sent to a dead-letter topic; for integrations that dead-letter themselves. */
  public void recordDeadLetter(String topic) {
    metrics.deadLettered(topic);
  }

  /**
   * Processes one event in its own transaction.
   *
   * @throws RuntimeException whatever the handler threw (SQL failures wrapped in {@link
   *     ConsumerException}); the transaction is rolled back and the key is not recorded
   */
  public Outcome process(InboundEvent event) {
    Outcome outcome = inTransaction(c -> List.of(processInTransaction(c, event, handler))).get(0);
    committed(event, outcome);
    return outcome;
  }

  /**
   * Processes a poll batch in one transaction: one multi-row insert-if-absent of the keys, then the
   * handler for each first-time event in order. If any event fails, the whole batch is rolled back
   * and the failure thrown; process the events one by one with {@link #process} then, so one poison
   * record does not poison its batch.
   *
   * <p>The key insert first assumes every key is new: a plain insert that returns no rows ({@link
   * IdempotencyStore#recordAllNew}). If some key was recorded already (a redelivery), it fails with
   * a unique violation before any handler ran; the transaction is rolled back and the batch runs
   * again with the insert-if-absent that names the new keys ({@link
   * IdempotencyStore#tryRecordAll}).
   *
   * <p>In claim mode the batch also records receipt in the shadow ledger with one insert and claims
   * the legacy rows with one update ({@link DualRunClaim#claim} explains the claim); an event whose
   * row that update did not take (the poller's, not visible yet, in progress...) is then decided on
   * its own, exactly as {@link #process} decides it. So a batch costs three statements plus the
   * handlers when every row is still pending, instead of one plus two per event.
   */
  public List<Outcome> processBatch(List<InboundEvent> events) {
    if (events.isEmpty()) {
      return List.of();
    }
    List<Outcome> outcomes;
    try {
      outcomes = inTransaction(c -> batchInTransaction(c, events, true));
    } catch (SomeKeysRecorded e) {
      outcomes = inTransaction(c -> batchInTransaction(c, events, false));
    }
    for (int i = 0; i < events.size(); i++) {
      committed(events.get(i), outcomes.get(i));
    }
    return outcomes;
  }

  /**
   * Processes one event on the caller's connection, inside the caller's transaction, with the given
   * handler: the caller commits, then reports with {@link #committed}. This is how the Spring
   * integration joins the listener's transaction.
   */
  public Outcome processInTransaction(Connection c, InboundEvent event, EventHandler h) {
    Optional<String> key = keyExtractor.key(event);
    if (key.isEmpty()) {
      return missingKey(event);
    }
    try {
      if (shadow) {
        boolean first = store.recordShadow(c, group, key.get(), event.eventTime().orElse(null));
        return first ? Outcome.SHADOWED : Outcome.DUPLICATE;
      }
      if (!store.tryRecord(c, group, key.get())) {
        return Outcome.DUPLICATE;
      }
      return claimAndHandle(c, event, key.get(), h, Claimed.NOT_YET);
    } catch (SQLException e) {
      throw new ConsumerException(
          "group " + group + ": processing " + event.coordinates() + " failed: " + e.getMessage(),
          e);
    }
  }

  /**
   * Like {@link #processInTransaction(Connection, InboundEvent, EventHandler)} with the configured
   * handler.
   */
  public Outcome processInTransaction(Connection c, InboundEvent event) {
    return processInTransaction(c, event, handler);
  }

  /** Counts an outcome and the end-to-end latency once its transaction committed. */
  public void committed(InboundEvent event, Outcome outcome) {
    metrics.outcome(event.topic(), outcome);
    if (outcome == Outcome.HANDLED || outcome == Outcome.SHADOWED) {
      metrics.endToEnd(event.topic(), event.eventTime().orElse(null), Instant.now());
    }
  }

  /** How far a batch got with an event's claim before {@link #claimAndHandle}. */
  private enum Claimed {
    /** Nothing done: record receipt in the ledger, then claim. */
    NOT_YET,
    /** Receipt recorded, the batch claim did not take the row: claim (and look) one by one. */
    RECORDED,
    /** Receipt recorded and the row claimed by the batch claim. */
    CLAIMED
  }

  private Outcome claimAndHandle(
      Connection c, InboundEvent event, String key, EventHandler h, Claimed claimed)
      throws SQLException {
    long t0 = System.nanoTime();
    try {
      if (claim != null && claimed != Claimed.CLAIMED) {
        if (claimed == Claimed.NOT_YET) {
          // every event received in claim mode is in the ledger, as in shadow mode: the dual gate
          // reads it after a rollback to shadow (the poller's wins are recorded nowhere else)
          store.recordShadow(c, group, key, event.eventTime().orElse(null));
        }
        DualRunClaim.Result r;
        try {
          r = claim.claim(c, event);
        } catch (ClaimNotDecidedException e) {
          metrics.claimNotDecided(event.topic(), e.reason().name());
          LOG.warn("group {}: {}", group, e.getMessage());
          throw e;
        }
        if (r != DualRunClaim.Result.CLAIMED) {
          // the key stays unrecorded: it names events this consumer handled
          store.forget(c, group, key);
          if (r == DualRunClaim.Result.ROW_DELETED) {
            LOG.warn(
                "group {}: {}: the row of {} was deleted after its insert committed; not handled",
                group,
                event.coordinates(),
                claim.qualifiedTable());
            return Outcome.ROW_DELETED;
          }
          return Outcome.POLLER_WON;
        }
      }
      if (h == null) {
        throw new ConsumerException(
            "group "
                + group
                + ": no handler configured; set IdempotentConsumer.builder().handler()");
      }
      HandlerTracing.handle(event, traceLink, () -> h.handle(event, c));
      return Outcome.HANDLED;
    } finally {
      metrics.handlerLatency(event.topic(), System.nanoTime() - t0);
    }
  }

  private Outcome missingKey(InboundEvent event) {
    if (missingKeyPolicy == MissingKeyPolicy.SKIP) {
      LOG.warn("group {}: {} has no idempotency key; skipped", group, event.coordinates());
      return Outcome.SKIPPED_NO_KEY;
    }
    throw new MissingIdempotencyKeyException(
        "group " + group + ": " + event.coordinates() + " has no idempotency key");
  }

  /** The optimistic key insert found a key recorded already: roll back, redo the careful way. */
  private static final class SomeKeysRecorded extends RuntimeException {
    SomeKeysRecorded() {
      super("some keys of the batch are recorded already", null, false, false);
    }
  }

  private List<Outcome> batchInTransaction(
      Connection c, List<InboundEvent> events, boolean assumeNew) throws SQLException {
    if (shadow) {
      List<Outcome> out = new ArrayList<>();
      for (InboundEvent e : events) {
        out.add(processInTransaction(c, e, handler));
      }
      return out;
    }
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      InboundEvent e = events.get(i);
      Optional<String> k = keyExtractor.key(e);
      if (k.isEmpty()) {
        try {
          missingKey(e); // throws with DEAD_LETTER
        } catch (RuntimeException failure) {
          throw batchFailure(i, e, failure);
        }
      }
      keys.add(k.orElse(null));
    }
    List<String> present = new ArrayList<>();
    for (String k : keys) {
      if (k != null) {
        present.add(k);
      }
    }
    Set<String> fresh;
    if (assumeNew) {
      fresh = new HashSet<>(present);
      try {
        store.recordAllNew(c, group, fresh);
      } catch (SQLException e) {
        if (IdempotencyStore.UNIQUE_VIOLATION.equals(e.getSQLState())) {
          throw new SomeKeysRecorded(); // before any handler ran: the rollback undoes only keys
        }
        throw e;
      }
    } else {
      fresh = new HashSet<>(store.tryRecordAll(c, group, present));
    }
    // the first event of each fresh key is handled; a later one with the same key is a duplicate
    List<Integer> firsts = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      String k = keys.get(i);
      if (k != null && fresh.remove(k)) {
        firsts.add(i);
      }
    }
    BitSet claimedByBatch = claim == null ? new BitSet() : claimAll(c, events, keys, firsts);
    List<Outcome> out = new ArrayList<>();
    int next = 0;
    for (int i = 0; i < events.size(); i++) {
      if (keys.get(i) == null) {
        out.add(Outcome.SKIPPED_NO_KEY);
      } else if (next < firsts.size() && firsts.get(next) == i) {
        Claimed claimed =
            claim == null
                ? Claimed.NOT_YET
                : claimedByBatch.get(next) ? Claimed.CLAIMED : Claimed.RECORDED;
        next++;
        try {
          out.add(claimAndHandle(c, events.get(i), keys.get(i), handler, claimed));
        } catch (SQLException | RuntimeException failure) {
          throw batchFailure(i, events.get(i), failure);
        }
      } else {
        out.add(Outcome.DUPLICATE);
      }
    }
    return out;
  }

  /**
   * Claim mode, batch: records receipt of every fresh event in the ledger with one insert and
   * claims their rows with one update (see {@link DualRunClaim#claimAll}), before any handler runs.
   * A row the update did not take is decided one by one in {@link #claimAndHandle}, as before.
   *
   * @return the positions in {@code firsts} whose rows were claimed
   */
  private BitSet claimAll(
      Connection c, List<InboundEvent> events, List<String> keys, List<Integer> firsts)
      throws SQLException {
    if (firsts.isEmpty()) {
      return new BitSet();
    }
    List<String> ledgerKeys = new ArrayList<>(firsts.size());
    List<Instant> times = new ArrayList<>(firsts.size());
    List<List<String>> rowKeys = new ArrayList<>(firsts.size());
    for (int i : firsts) {
      InboundEvent e = events.get(i);
      try {
        rowKeys.add(claim.keyValues(e));
      } catch (RuntimeException failure) {
        throw batchFailure(i, e, failure);
      }
      ledgerKeys.add(keys.get(i));
      times.add(e.eventTime().orElse(null));
    }
    store.recordShadowAll(c, group, ledgerKeys, times);
    return claim.claimAll(c, rowKeys);
  }

  private BatchFailedException batchFailure(int index, InboundEvent event, Exception failure) {
    return new BatchFailedException(
        "group "
            + group
            + ": batch rolled back; "
            + event.coordinates()
            + " failed: "
            + failure.getClass().getName(),
        index,
        event,
        failure);
  }

  @FunctionalInterface
  private interface TxWork {
    List<Outcome> run(Connection c) throws SQLException;
  }

  private List<Outcome> inTransaction(TxWork work) {
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        List<Outcome> result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException | Error e) {
        try {
          c.rollback();
        } catch (SQLException r) {
          e.addSuppressed(r);
        }
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw new ConsumerException("group " + group + ": transaction failed: " + e.getMessage(), e);
    }
  }

  /** Builds an {@link IdempotentConsumer}. */
  public static final class Builder {
    private DataSource dataSource;
    private String consumerGroup;
    private IdempotencyStore store = IdempotencyStore.defaults();
    private EventHandler handler;
    private DualRunClaim claim;
    private boolean shadow;
    private KeyExtractor keyExtractor = KeyExtractor.ceId();
    private MissingKeyPolicy missingKeyPolicy = MissingKeyPolicy.DEAD_LETTER;
    private boolean traceLink;
    private MeterRegistry meterRegistry;

    private Builder() {}

    /** The database of the handler's effects and of the idempotency store. Required. */
    public Builder dataSource(DataSource dataSource) {
      this.dataSource = dataSource;
      return this;
    }

    /** Consumer group: Kafka's group id and the store's {@code consumer_group}. Required. */
    public Builder consumerGroup(String consumerGroup) {
      this.consumerGroup = consumerGroup;
      return this;
    }

    /** The store; default {@link IdempotencyStore#defaults()}. */
    public Builder store(IdempotencyStore store) {
      this.store = store;
      return this;
    }

    /**
     * The effect of an event, used by {@link #process} and {@link #processBatch}. Required for
     * {@link KafkaConsumerRunner}; the Spring integration may pass a handler per call instead.
     */
    public Builder handler(EventHandler handler) {
      this.handler = handler;
      return this;
    }

    /** Dual-run claim mode: claim the legacy row in the handler's transaction. */
    public Builder claim(DualRunClaim claim) {
      this.claim = claim;
      return this;
    }

    /** Shadow mode: record receipt in the shadow ledger and never run a handler. */
    public Builder shadow() {
      this.shadow = true;
      return this;
    }

    /** Where the key comes from; default {@link KeyExtractor#ceId()}. */
    public Builder keyExtractor(KeyExtractor keyExtractor) {
      this.keyExtractor = keyExtractor;
      return this;
    }

    /**
     * With OpenTelemetry on the classpath, the handler runs in a span of the trace the event
     * carries (the writer's, through the outbox's {@code ce_traceparent}): as its child (default),
     * or, with {@code true}, in a new trace that links to it (for consumers whose work should not
     * lengthen the writer's trace).
     */
    public Builder traceAsLink(boolean link) {
      this.traceLink = link;
      return this;
    }

    /** What to do with a record without key; default {@link MissingKeyPolicy#DEAD_LETTER}. */
    public Builder missingKeyPolicy(MissingKeyPolicy missingKeyPolicy) {
      this.missingKeyPolicy = missingKeyPolicy;
      return this;
    }

    /** Where meters go; default a private {@code SimpleMeterRegistry}. */
    public Builder meterRegistry(MeterRegistry meterRegistry) {
      this.meterRegistry = meterRegistry;
      return this;
    }

    /** Validates every setting and reports all problems at once. */
    public IdempotentConsumer build() {
      List<String> problems = new ArrayList<>();
      if (dataSource == null) {
        problems.add("dataSource: missing; pass the database of the handler's effects");
      }
      if (consumerGroup == null || consumerGroup.isBlank()) {
        problems.add("consumerGroup: '" + consumerGroup + "' must be a non-blank group id");
      }
      if (store == null) {
        problems.add("store: missing; use IdempotencyStore.defaults()");
      }
      if (keyExtractor == null) {
        problems.add("keyExtractor: missing; use KeyExtractor.ceId()");
      }
      if (missingKeyPolicy == null) {
        problems.add("missingKeyPolicy: missing; use MissingKeyPolicy.DEAD_LETTER");
      }
      if (shadow && claim != null) {
        problems.add("claim: shadow mode never runs a handler, so it cannot claim; drop one");
      }
      if (shadow && handler != null) {
        problems.add("handler: shadow mode never runs a handler; drop it or drop shadow()");
      }
      Validation.throwIfAny("IdempotentConsumer", problems);
      if (meterRegistry == null) {
        meterRegistry = new SimpleMeterRegistry();
      }
      return new IdempotentConsumer(this);
    }
  }
}
