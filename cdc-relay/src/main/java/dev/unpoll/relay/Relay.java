package dev.unpoll.relay;

import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.contract.config.UnpollConfig.OffsetStore;
import dev.unpoll.relay.internal.BacklogLedger;
import dev.unpoll.relay.internal.DebeziumProperties;
import dev.unpoll.relay.internal.FencedOffsetStore;
import dev.unpoll.relay.internal.KafkaPublisher;
import dev.unpoll.relay.internal.PreFlight;
import dev.unpoll.relay.internal.SourceErrors;
import dev.unpoll.relay.ops.LeaderElection;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay: a Debezium embedded engine reading PostgreSQL's WAL through {@code pgoutput} and
 * publishing legacy-table inserts and outbox events to Kafka, at-least-once and in order per key.
 *
 * <pre>{@code
 * try (Relay relay = Relay.builder().config(UnpollConfig.load(path)).build()) {
 *   relay.start();
 *   relay.awaitTermination();
 * }
 * }</pre>
 *
 * <p>Lifecycle accessors ({@link #isStreaming()}, {@link #isHealthy()}, {@link #lastError()},
 * {@link #lastAcknowledgedLsn()}) are safe to call from any thread, e.g. HTTP probes.
 */
public final class Relay implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Relay.class);

  /** Debezium's engine, which logs its configuration (the password included) at DEBUG. */
  static final String DEBEZIUM_ENGINE_LOGGER = "io.debezium.embedded.async.AsyncEmbeddedEngine";

  private final UnpollConfig config;
  private final MeterRegistry registry;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean taskStarted = new AtomicBoolean();
  private final AtomicBoolean streaming = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicReference<String> lastError = new AtomicReference<>();
  private final AtomicBoolean slotFailure = new AtomicBoolean();
  private final AtomicReference<String> ackedLsn = new AtomicReference<>();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private volatile DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
  private volatile KafkaPublisher publisher;
  private volatile ExecutorService executor;
  private final Consumer<List<SourceRecord>> afterBatch;
  private final LeaderElection fence;
  private volatile String fenceKey;

  private Relay(Builder b) {
    this.config = b.config;
    this.registry = b.registry;
    this.afterBatch = b.afterBatch;
    this.fence = b.fence;
  }

  /** A builder; {@link Builder#config(UnpollConfig)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Checks the source (tables, columns, publication, slot) and starts streaming in the background.
   * Returns once the engine is started; {@link #isStreaming()} turns true when the slot is active.
   *
   * @throws RelayConfigException when tables or columns do not exist
   * @throws RelaySlotException when the slot or the publication is not usable
   * @throws IllegalStateException if called twice
   */
  public void start() {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("the relay was already started");
    }
    if (LoggerFactory.getLogger(DEBEZIUM_ENGINE_LOGGER).isDebugEnabled()) {
      LOG.warn(
          "logger {} is at DEBUG: Debezium's engine logs its whole configuration at that level,"
              + " the database password included; set that logger to INFO",
          DEBEZIUM_ENGINE_LOGGER);
    }
    PreFlight.Result pre;
    try {
      pre = new PreFlight(config).run();
    } catch (RuntimeException e) {
      fail(e.getMessage());
      terminated.countDown();
      throw e;
    }
    LOG.info(
        "starting relay: slot {}, publication {}, {} tables, outbox {}, backlog {}",
        config.source().slot(),
        config.source().publication(),
        config.tables().size(),
        config.outbox().isPresent() ? "on" : "off",
        pre.backlogTables());
    try {
      List<TableName> backlog = pre.backlogTables();
      publisher =
          new KafkaPublisher(
              config,
              registry,
              ackedLsn::set,
              backlog.isEmpty() ? () -> true : () -> recordBacklogDone(backlog),
              afterBatch);
      Properties properties =
          DebeziumProperties.of(
              config,
              backlog,
              pre.slotExists() || pre.offsetsExist(),
              pre.publicationForAllTables());
      if (fence != null && config.offsets().store() != OffsetStore.FILE) {
        fenceKey = FencedOffsetStore.fence(properties, fence);
      }
      engine =
          DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
              .using(properties)
              .using(
                  new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void taskStarted() {
                      taskStarted.set(true);
                    }

                    @Override
                    public void taskStopped() {
                      streaming.set(false);
                    }
                  })
              .using(this::completed)
              .notifying(publisher)
              .build();
      executor =
          Executors.newFixedThreadPool(
              2,
              r -> {
                Thread t = new Thread(r, "unpoll-relay-" + config.source().slot());
                t.setDaemon(false);
                return t;
              });
      executor.execute(engine);
      executor.execute(this::watchReadiness);
    } catch (RuntimeException e) {
      fail("cannot start the engine: " + e.getMessage());
      terminated.countDown();
      KafkaPublisher p = publisher;
      if (p != null) {
        p.close();
      }
      FencedOffsetStore.release(fenceKey);
      throw new RelayException("cannot start the relay engine: " + e.getMessage(), e);
    }
  }

  /**
   * Records the backlog as done once Kafka acknowledged all of it; until then every start reads it
   * again. False (retried after the next batch) if the ledger cannot be written.
   */
  private boolean recordBacklogDone(List<TableName> backlog) {
    try (Connection c = PreFlight.connect(config.source())) {
      new BacklogLedger(config).markDone(c, backlog);
      LOG.info(
          "backlog of {} published and acknowledged; recorded as done in {}",
          backlog,
          BacklogLedger.table(config));
      return true;
    } catch (SQLException e) {
      LOG.warn(
          "cannot record the backlog of {} as done in {}: {}; retrying after the next batch (a"
              + " restart before then reads the backlog again, duplicates only)",
          backlog,
          BacklogLedger.table(config),
          e.getMessage());
      return false;
    }
  }

  private void completed(boolean success, String message, Throwable error) {
    streaming.set(false);
    if (!success || error != null) {
      String m = error == null ? message : rootMessage(error);
      Optional<SQLException> fatal =
          error == null ? Optional.empty() : SourceErrors.nonTransient(error);
      if (fatal.isPresent()) {
        // a change the slot cannot decode (its publication is missing) is a slot problem: exit 3
        slotFailure.set(SourceErrors.missingPublication(fatal.get()));
        m = SourceErrors.explain(fatal.get(), config);
      } else if (m != null && m.contains("no longer available on the server")) {
        slotFailure.set(true);
        m =
            "replication slot "
                + config.source().slot()
                + " is ahead of this relay's stored offsets: it was dropped and recreated (or"
                + " advanced) while the relay was away, so the changes in between can no longer"
                + " be read. The relay does not stream over that gap. Choose: reconcile the gap"
                + " (unpoll verify), then start with a new slot name (source.slot), optionally with"
                + " backlog: true; or accept the gap and drop the offsets table "
                + PreFlight.offsetTable(config)
                + ". Debezium said: "
                + m;
      }
      fail(m);
      LOG.error("relay stopped with an error: {}", m, error);
    } else if (!stopping.get()) {
      LOG.warn("relay engine stopped: {}", message);
    } else {
      LOG.info("relay engine stopped: {}", message);
    }
    terminated.countDown();
  }

  private static String rootMessage(Throwable t) {
    Throwable last = t;
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof RelayException) {
        return c.getMessage();
      }
      last = c;
    }
    return last.getMessage() == null ? last.getClass().getName() : last.getMessage();
  }

  private void fail(String message) {
    lastError.compareAndSet(null, message);
    publisherError("fatal");
  }

  private void publisherError(String kind) {
    KafkaPublisher p = publisher;
    if (p != null) {
      p.error(kind);
    } else {
      registry.counter("unpoll.relay.errors", "kind", kind).increment();
    }
  }

  /** Polls until the connector task runs and the slot is active. */
  private void watchReadiness() {
    try (Connection c = PreFlight.connect(config.source())) {
      while (terminated.getCount() > 0 && !stopping.get()) {
        if (taskStarted.get() && PreFlight.slotExists(c, config.source().slot())) {
          streaming.set(true);
          LOG.info("relay streaming from slot {}", config.source().slot());
          return;
        }
        if (terminated.await(100, TimeUnit.MILLISECONDS)) {
          return;
        }
      }
    } catch (Exception e) {
      LOG.warn("readiness check of slot {} failed: {}", config.source().slot(), e.toString());
    }
  }

  /** True once {@link #start()} was called. */
  public boolean isStarted() {
    return started.get();
  }

  /** True while the engine streams from an active slot: the relay is ready. */
  public boolean isStreaming() {
    return streaming.get() && terminated.getCount() > 0;
  }

  /** True while the engine runs (or has not been started) and no fatal error happened. */
  public boolean isHealthy() {
    return lastError.get() == null && (!started.get() || terminated.getCount() > 0);
  }

  /**
   * True if the relay stopped on a slot problem ({@code exit 3}): the slot no longer matches its
   * offsets, or it holds a change it cannot decode because its publication did not exist then.
   */
  public boolean failedOnSlot() {
    return slotFailure.get();
  }

  /** The first fatal error's message, if any. */
  public Optional<String> lastError() {
    return Optional.ofNullable(lastError.get());
  }

  /** LSN (PostgreSQL notation) of the last change whose batch Kafka acknowledged, if any. */
  public Optional<String> lastAcknowledgedLsn() {
    return Optional.ofNullable(ackedLsn.get());
  }

  /** The meter registry the relay records to. */
  public MeterRegistry meterRegistry() {
    return registry;
  }

  /** The configuration. */
  public UnpollConfig config() {
    return config;
  }

  /** Blocks until the engine stops (after {@link #close()} or a fatal error). */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  /** Blocks until the engine stops or {@code timeout} passes; true if it stopped. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Stops gracefully: first waits (within one heartbeat interval and 2 s, at most 10 s) until the
   * offsets of the changes acknowledged so far can be stored, so a restart publishes fewer of them
   * again; then the engine finishes the batch in flight (whose sends are acknowledged before it
   * completes), flushes offsets and stops; then the producer closes. Idempotent.
   */
  @Override
  public void close() {
    stop(true);
  }

  /**
   * Stops at once, without {@link #close()}'s wait for offsets: when another replica may take the
   * slot, or the slot is unusable. Changes published since the last stored offset are published
   * again by the next start (duplicates, nothing lost). Idempotent.
   */
  public void abort() {
    stop(false);
  }

  private void stop(boolean awaitOffsets) {
    if (!stopping.compareAndSet(false, true)) {
      awaitQuietly();
      return;
    }
    DebeziumEngine<RecordChangeEvent<SourceRecord>> e = engine;
    KafkaPublisher held = publisher;
    if (awaitOffsets && e != null && held != null && streaming.get()) {
      awaitOffsetsMarked(held);
    }
    if (e != null) {
      try {
        e.close();
      } catch (IOException | IllegalStateException ex) {
        LOG.debug("engine already stopped: {}", ex.toString());
      }
      awaitQuietly();
    }
    KafkaPublisher p = publisher;
    if (p != null) {
      p.close();
    }
    FencedOffsetStore.release(fenceKey);
    ExecutorService x = executor;
    if (x != null) {
      x.shutdown();
      try {
        x.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
    LOG.info("relay stopped; last acknowledged LSN {}", ackedLsn.get());
  }

  /**
   * The last inserts' offset is stored once a record after them arrives, a heartbeat at the latest
   * (rows of one WAL record share an LSN; see KafkaPublisher.SameLsnTail): wait for it, within one
   * heartbeat interval and a margin, so a graceful stop does not publish them again.
   */
  private void awaitOffsetsMarked(KafkaPublisher p) {
    Duration bound = config.source().heartbeatInterval().plus(STOP_MARGIN);
    if (bound.compareTo(MAX_STOP_WAIT) > 0) {
      bound = MAX_STOP_WAIT;
    }
    try {
      long left = p.awaitOffsetsMarked(bound);
      if (left > 0) {
        LOG.info(
            "stopping with {} acknowledged changes whose offset is not stored yet (no later record"
                + " within {} s); the next start publishes them again (duplicates, nothing lost)",
            left,
            bound.toSeconds());
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }

  private static final Duration STOP_MARGIN = Duration.ofSeconds(2);
  private static final Duration MAX_STOP_WAIT = Duration.ofSeconds(10);

  private void awaitQuietly() {
    try {
      terminated.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    }
  }

  /** Builds a {@link Relay}. */
  public static final class Builder {
    private UnpollConfig config;
    private MeterRegistry registry = new SimpleMeterRegistry();
    private Consumer<List<SourceRecord>> afterBatch = batch -> {};
    private LeaderElection fence;

    private Builder() {}

    /**
     * For tests: called on the engine's thread after each batch is acknowledged by Kafka and its
     * offsets are marked; a test that blocks here stops the relay at a batch boundary it chose.
     */
    Builder afterBatch(Consumer<List<SourceRecord>> observer) {
      this.afterBatch = Objects.requireNonNull(observer);
      return this;
    }

    /**
     * HA: store offsets only through this election's lock session, so that they are stored only
     * while this replica leads (see {@code FencedOffsetStore}); JDBC offset store only.
     */
    Builder fence(LeaderElection election) {
      this.fence = election;
      return this;
    }

    /** The validated configuration (required). */
    public Builder config(UnpollConfig config) {
      this.config = config;
      return this;
    }

    /** Where metrics go; default a {@link SimpleMeterRegistry}. */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = registry;
      return this;
    }

    /**
     * Builds the relay without starting it.
     *
     * @throws RelayConfigException if a required setting is missing
     */
    public Relay build() {
      List<String> problems = new ArrayList<>();
      if (config == null) {
        problems.add("config: missing; pass UnpollConfig.load(path)");
      }
      if (registry == null) {
        problems.add("meterRegistry: null; pass a MeterRegistry or leave the default");
      }
      if (!problems.isEmpty()) {
        throw new RelayConfigException(problems);
      }
      Objects.requireNonNull(config);
      return new Relay(this);
    }
  }
}
