package dev.unpoll.relay;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.internal.PreFlight;
import dev.unpoll.relay.ops.HealthStatus;
import dev.unpoll.relay.ops.LeaderElection;
import dev.unpoll.relay.ops.RelayHttpServer;
import dev.unpoll.relay.ops.RelayOpsException;
import dev.unpoll.relay.ops.SlotMonitor;
import dev.unpoll.relay.ops.SlotStatus;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay as a process runs it: the {@link Relay} plus its operations around it, from one {@link
 * UnpollConfig}:
 *
 * <ul>
 *   <li>{@code http.port} &gt; 0: {@code /health}, {@code /ready}, {@code /metrics} (Prometheus);
 *   <li>{@code ha.enabled}: stand by until this replica holds the advisory lock {@code
 *       ha.lock-name}; when the lock's session dies, stop streaming at once and stand by again.
 *       Offsets (JDBC store) are written on the lock's session, so only the holder stores them;
 *   <li>the slot's retained WAL, lag and state as gauges, with the {@code
 *       monitoring.retained-wal-warning} threshold; a slot that goes missing or is invalidated
 *       while the relay runs stops it (exit 3): it is never recreated behind the relay's back.
 * </ul>
 *
 * <p>One meter registry lives across leadership terms; each term gets a fresh {@link Relay}. {@code
 * /health} is up while this process works as it should (a standby is healthy); {@code /ready} is up
 * only while this replica streams from its slot and the slot is under the WAL threshold.
 */
public final class RelayRunner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RelayRunner.class);
  private static final Duration STREAMING_POLL = Duration.ofMillis(100);

  /**
   * How long a new HA leader waits in one round for the previous leader's walsender to let go of
   * the slot before it logs an error and starts another round. The walsender of a leader that died
   * holds the slot until the server notices (up to {@code wal_sender_timeout}, 60 s by default).
   */
  public static final Duration SLOT_RELEASE_WAIT = Duration.ofSeconds(120);

  /** How often the waiting leader checks the slot, and how often it logs that it still waits. */
  private static final Duration SLOT_RELEASE_POLL = Duration.ofMillis(500);

  private static final Duration SLOT_RELEASE_LOG = Duration.ofSeconds(10);

  private final UnpollConfig config;
  private final PrometheusMeterRegistry registry;
  private final AtomicReference<Relay> current = new AtomicReference<>();
  private final AtomicReference<String> role = new AtomicReference<>("starting");
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicBoolean leadershipLost = new AtomicBoolean();
  private final AtomicReference<String> slotFailure = new AtomicReference<>();
  private final AtomicReference<String> failure = new AtomicReference<>();
  private volatile LeaderElection election;
  private volatile SlotMonitor slots;
  private volatile RelayHttpServer http;

  private RelayRunner(UnpollConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  /** A runner for {@code config}; nothing starts before {@link #run()}. */
  public static RelayRunner of(UnpollConfig config) {
    return new RelayRunner(config);
  }

  /** The registry {@code /metrics} serves; the relay, slot and JVM-free gauges record into it. */
  public PrometheusMeterRegistry meterRegistry() {
    return registry;
  }

  /** The port {@code /health} and friends listen on, or -1 when {@code http.port} is 0. */
  public int httpPort() {
    RelayHttpServer h = http;
    return h == null ? -1 : h.port();
  }

  /**
   * {@code leader}, {@code standby}, {@code waiting-for-slot} (HA: leader, but the previous
   * leader's walsender still holds the slot), {@code starting} or {@code stopped}.
   */
  public String role() {
    return role.get();
  }

  /** The relay of the current leadership term, if one streams or starts. */
  public Relay relay() {
    return current.get();
  }

  /**
   * Runs until {@link #close()} (for example from a SIGTERM hook) or a fatal problem.
   *
   * @return the exit code: {@link RelayMain#EXIT_OK}, {@link RelayMain#EXIT_FAILURE}, {@link
   *     RelayMain#EXIT_CONFIG} or {@link RelayMain#EXIT_SLOT}
   */
  public int run() {
    try {
      if (config.http().port() > 0) {
        http =
            RelayHttpServer.builder()
                .port(config.http().port())
                .meterRegistry(registry)
                .health(this::health)
                .readiness(this::readiness)
                .build()
                .start();
        LOG.info("HTTP endpoints on port {}: /health /ready /metrics", http.port());
      }
      if (config.ha().enabled()) {
        election =
            LeaderElection.builder()
                .jdbcUrl(config.source().jdbcUrl())
                .user(config.source().user())
                .password(config.source().password())
                .lockName(config.ha().lockName())
                .onLeadershipLost(this::onLeadershipLost)
                .build();
      }
      while (!stopping.get()) {
        if (election != null) {
          role.set("standby");
          LOG.info("standing by for leadership ({})", config.ha().lockName());
          try {
            election.awaitLeadership();
          } catch (RelayOpsException closed) {
            if (stopping.get()) {
              break; // close() closed the election to wake this standby
            }
            throw closed;
          }
          if (stopping.get()) {
            break;
          }
          leadershipLost.set(false);
        }
        if (election != null && !awaitSlotReleased()) {
          continue; // lost leadership, stopping, or one round of waiting is over: stand by again
        }
        role.set("leader");
        int exit = runOneTerm();
        if (exit >= 0) {
          return exit;
        }
      }
      return RelayMain.EXIT_OK;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return RelayMain.EXIT_OK;
    } catch (RelayException | RelayOpsException e) {
      return fail(RelayMain.EXIT_FAILURE, e.getMessage());
    } finally {
      role.set("stopped");
      closeOps();
    }
  }

  /**
   * HA: a slot has one reader at a time, and the previous leader's walsender may still hold it
   * after that leader lost the lock. The new leader waits for it (role {@code waiting-for-slot}),
   * logging every {@link #SLOT_RELEASE_LOG}, for at most {@link #SLOT_RELEASE_WAIT}.
   *
   * @return true when the slot is free (or cannot be checked: the pre-flight then reports why);
   *     false when leadership was lost, the runner stops, or the round ran out
   */
  private boolean awaitSlotReleased() throws InterruptedException {
    String slot = config.source().slot();
    long start = System.nanoTime();
    long nextLog = start;
    try (Connection c = PreFlight.connect(config.source())) {
      while (true) {
        OptionalLong holder = PreFlight.slotHolder(c, slot);
        long now = System.nanoTime();
        Duration waited = Duration.ofNanos(now - start);
        // Leadership first: a replica that lost the lock while it waited must not take the slot
        // just because it came free in the same poll.
        if (stopping.get() || (election != null && !election.isLeader())) {
          return false;
        }
        if (holder.isEmpty()) {
          if (waited.compareTo(SLOT_RELEASE_POLL) > 0) {
            LOG.info("slot {} is free after waiting {}; starting to stream", slot, waited);
          }
          return true;
        }
        if (waited.compareTo(SLOT_RELEASE_WAIT) >= 0) {
          LOG.error(
              "slot {} is still held by server process {} after {}: the previous leader's"
                  + " walsender should have gone by now. If another relay outside this HA group"
                  + " (lock {}) streams from the slot, stop it; to end the holder: SELECT"
                  + " pg_terminate_backend({}); still standing by for the slot",
              slot,
              holder.getAsLong(),
              waited,
              config.ha().lockName(),
              holder.getAsLong());
          return false;
        }
        role.set("waiting-for-slot");
        if (now >= nextLog) {
          LOG.warn(
              "leader, but slot {} is still held by server process {} (the previous leader's"
                  + " walsender?); waiting for it to be released, {} so far, at most {} per round",
              slot,
              holder.getAsLong(),
              waited,
              SLOT_RELEASE_WAIT);
          nextLog = now + SLOT_RELEASE_LOG.toNanos();
        }
        TimeUnit.NANOSECONDS.sleep(SLOT_RELEASE_POLL.toNanos());
      }
    } catch (SQLException e) {
      LOG.warn("cannot check whether slot {} is free: {}", slot, e.getMessage());
      return true;
    }
  }

  /** Streams until the relay stops; returns an exit code, or -1 to stand by again. */
  private int runOneTerm() throws InterruptedException {
    Relay relay = Relay.builder().config(config).meterRegistry(registry).fence(election).build();
    current.set(relay);
    if (stopping.get()) {
      return RelayMain.EXIT_OK;
    }
    if (leadershipLost.get()) {
      // Lost before this term's relay was visible to onLeadershipLost (it sets the flag, then
      // reads current; this sets current, then reads the flag): stand by instead of starting.
      return -1;
    }
    try {
      relay.start();
    } catch (RelayConfigException e) {
      return fail(RelayMain.EXIT_CONFIG, e.getMessage());
    } catch (RelaySlotException e) {
      return fail(RelayMain.EXIT_SLOT, e.getMessage());
    }
    while (!relay.isStreaming() && !relay.awaitTermination(STREAMING_POLL)) {
      // waiting for the engine to take the slot (it creates it on a first capture)
    }
    if (relay.isStreaming()) {
      startSlotMonitor();
    }
    relay.awaitTermination();
    relay.close();
    if (slotFailure.get() != null) {
      return fail(RelayMain.EXIT_SLOT, slotFailure.get());
    }
    if (stopping.get()) {
      return relay.lastError().isPresent()
          ? fail(RelayMain.EXIT_FAILURE, "relay failed: " + relay.lastError().get())
          : RelayMain.EXIT_OK;
    }
    if (leadershipLost.get()) {
      LOG.warn("lost leadership: stopped streaming, standing by again");
      return -1;
    }
    if (relay.lastError().isPresent()) {
      return fail(
          relay.failedOnSlot() ? RelayMain.EXIT_SLOT : RelayMain.EXIT_FAILURE,
          "relay failed: " + relay.lastError().get());
    }
    return RelayMain.EXIT_OK;
  }

  private int fail(int exitCode, String message) {
    failure.compareAndSet(null, message);
    return exitCode;
  }

  /** Why {@link #run()} returned a non-zero exit code, if it did. */
  public Optional<String> failure() {
    return Optional.ofNullable(failure.get());
  }

  private synchronized void startSlotMonitor() {
    if (slots != null) {
      return;
    }
    SlotMonitor monitor =
        SlotMonitor.builder()
            .jdbcUrl(config.source().jdbcUrl())
            .user(config.source().user())
            .password(config.source().password())
            .slotName(config.source().slot())
            .retainedWalWarningBytes(config.monitoring().retainedWalWarningBytes())
            .meterRegistry(registry)
            .listener(this::onSlotStatus)
            .build();
    // The first look at the slot happens before /ready can see the monitor: readiness then goes
    // from down to up once per term, never up ("streaming") -> down ("not checked") -> up.
    monitor.poll();
    slots = monitor.start();
  }

  private void onSlotStatus(SlotStatus status) {
    Relay relay = current.get();
    if (status.state().fatal() && relay != null && relay.isStarted() && !stopping.get()) {
      if (slotFailure.compareAndSet(
          null,
          "slot "
              + config.source().slot()
              + " is "
              + status.state()
              + " while the relay runs: "
              + status.message())) {
        new Thread(relay::abort, "unpoll-relay-slot-stop").start(); // listeners must not block
      }
    }
  }

  private void onLeadershipLost() {
    leadershipLost.set(true);
    Relay relay = current.get();
    if (relay != null) {
      // Another replica may take the slot now: stop streaming without delay, off this thread.
      new Thread(relay::abort, "unpoll-relay-leadership-lost").start();
    }
  }

  private HealthStatus health() {
    Relay relay = current.get();
    if (relay != null && !relay.isHealthy() && !leadershipLost.get()) {
      return HealthStatus.down(relay.lastError().orElse("relay failed"));
    }
    SlotMonitor s = slots;
    return s == null ? HealthStatus.up(role.get()) : s.health();
  }

  private HealthStatus readiness() {
    Relay relay = current.get();
    if (!"leader".equals(role.get()) || relay == null || !relay.isStreaming()) {
      return HealthStatus.down(role.get() + ": not streaming");
    }
    SlotMonitor s = slots;
    return s == null ? HealthStatus.down("streaming; slot not checked yet") : s.readiness();
  }

  /** Stops gracefully: the batch in flight is acknowledged, offsets flushed, the lock released. */
  @Override
  public void close() {
    if (!stopping.compareAndSet(false, true)) {
      return;
    }
    Relay relay = current.get();
    if (relay != null) {
      relay.close();
    }
    LeaderElection e = election;
    if (e != null) {
      e.close(); // also wakes a standby waiting in awaitLeadership
    }
  }

  private void closeOps() {
    if (slots != null) {
      slots.close();
    }
    if (election != null) {
      election.close();
    }
    if (http != null) {
      http.close();
    }
  }
}
