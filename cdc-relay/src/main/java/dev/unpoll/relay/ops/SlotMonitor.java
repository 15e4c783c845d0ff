package dev.unpoll.relay.ops;

import dev.unpoll.relay.ops.internal.PgConnections;
import dev.unpoll.relay.ops.internal.Problems;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the relay's replication slot in {@code pg_replication_slots}: whether it exists, is
 * active, has been invalidated, how much WAL it makes the server retain and how far the relay's
 * confirmed position lags behind the current WAL position.
 *
 * <p>With a {@link MeterRegistry} it registers these gauges, tagged {@code slot=<name>}:
 *
 * <ul>
 *   <li>{@value #RETAINED_WAL_GAUGE}: {@code pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)}
 *   <li>{@value #LAG_GAUGE}: {@code pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)}
 *   <li>{@value #ACTIVE_GAUGE}: 1 while a walsender streams from the slot, else 0
 *   <li>{@value #OVER_THRESHOLD_GAUGE}: 1 while the retained WAL is above the warning threshold
 * </ul>
 *
 * Byte gauges read NaN while the value is unknown (slot missing, database unreachable).
 *
 * <p>Crossing the threshold upwards logs one warning, crossing back one info line. Entering {@link
 * SlotState#MISSING} or {@link SlotState#LOST} logs one error that says what to do; the relay must
 * stop then ({@link SlotState#fatal()}); a {@link Builder#listener(Consumer) listener} sees every
 * observation. The monitor never creates, drops or advances a slot.
 */
public final class SlotMonitor implements AutoCloseable {
  /** Default interval between two looks at the slot. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(10);

  /** Default retained-WAL warning threshold: 1 GiB. */
  public static final long DEFAULT_RETAINED_WAL_WARNING_BYTES =
      dev.unpoll.contract.config.UnpollConfig.DEFAULT_RETAINED_WAL_WARNING;

  /** Default connect, socket and query timeout of the monitor's session. */
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(5);

  /** Gauge: WAL bytes the server retains for the slot. */
  public static final String RETAINED_WAL_GAUGE = "unpoll.relay.slot.retained.wal.bytes";

  /** Gauge: WAL bytes not yet confirmed by the relay. */
  public static final String LAG_GAUGE = "unpoll.relay.slot.lag.bytes";

  /** Gauge: 1 while the slot is active. */
  public static final String ACTIVE_GAUGE = "unpoll.relay.slot.active";

  /** Gauge: 1 while the retained WAL is above the threshold. */
  public static final String OVER_THRESHOLD_GAUGE = "unpoll.relay.slot.retained.wal.over.threshold";

  private static final Logger LOG = LoggerFactory.getLogger(SlotMonitor.class);
  private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");

  // to_jsonb(s) reads invalidation_reason on PostgreSQL 17+ and yields null before it.
  private static final String SLOT_SQL =
      "SELECT s.slot_type, s.database, current_database() AS current_db, s.active, s.wal_status,"
          + " pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint AS retained_bytes,"
          + " pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint AS lag_bytes,"
          + " to_jsonb(s) ->> 'invalidation_reason' AS invalidation_reason"
          + " FROM pg_replication_slots s WHERE s.slot_name = ?";

  private final String slotName;
  private final Duration pollInterval;
  private final long thresholdBytes;
  private final Consumer<SlotStatus> listener;
  private final PgConnections connections;
  private final int queryTimeoutSeconds;
  private final ScheduledExecutorService scheduler;

  private volatile SlotStatus status;
  private Connection session; // guarded by this
  private boolean started; // guarded by this
  private boolean closed; // guarded by this

  private SlotMonitor(Builder b) {
    this.slotName = b.slotName;
    this.pollInterval = b.pollInterval;
    this.thresholdBytes = b.retainedWalWarningBytes;
    this.listener = b.listener;
    this.connections =
        new PgConnections(
            b.jdbcUrl, b.user, b.password, "unpoll-relay-slot-monitor", b.sessionTimeout);
    this.queryTimeoutSeconds = (int) Math.max(1, (b.sessionTimeout.toMillis() + 999) / 1000);
    this.status =
        new SlotStatus(
            slotName,
            SlotState.NOT_CHECKED,
            false,
            null,
            -1,
            -1,
            false,
            Instant.now(),
            "not checked yet");
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "unpoll-slot-monitor-" + b.slotName);
              t.setDaemon(true);
              return t;
            });
    if (b.meterRegistry != null) {
      registerGauges(b.meterRegistry);
    }
  }

  /** A builder; {@code jdbcUrl} and {@code slotName} are required. */
  public static Builder builder() {
    return new Builder();
  }

  private void registerGauges(MeterRegistry registry) {
    Gauge.builder(RETAINED_WAL_GAUGE, this, m -> bytesOrNaN(m.status.retainedWalBytes()))
        .tag("slot", slotName)
        .strongReference(true)
        .description("WAL bytes the server retains for the replication slot")
        .register(registry);
    Gauge.builder(LAG_GAUGE, this, m -> bytesOrNaN(m.status.lagBytes()))
        .tag("slot", slotName)
        .strongReference(true)
        .description("WAL bytes written but not yet confirmed by the relay")
        .register(registry);
    Gauge.builder(ACTIVE_GAUGE, this, m -> m.status.active() ? 1 : 0)
        .tag("slot", slotName)
        .strongReference(true)
        .description("1 while a walsender streams from the replication slot")
        .register(registry);
    Gauge.builder(OVER_THRESHOLD_GAUGE, this, m -> m.status.overThreshold() ? 1 : 0)
        .tag("slot", slotName)
        .strongReference(true)
        .description("1 while the slot's retained WAL is above the warning threshold")
        .register(registry);
  }

  private static double bytesOrNaN(long bytes) {
    return bytes < 0 ? Double.NaN : bytes;
  }

  /**
   * Starts polling every poll interval, the first poll at once. Idempotent. On a first capture the
   * engine creates the slot: start the monitor once the engine streams, or it reports the slot
   * {@link SlotState#MISSING missing}.
   */
  public synchronized SlotMonitor start() {
    if (closed) {
      throw new RelayOpsException("slot monitor of '" + slotName + "' is closed");
    }
    if (!started) {
      started = true;
      scheduler.scheduleWithFixedDelay(
          this::pollQuietly, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
    }
    return this;
  }

  private void pollQuietly() {
    try {
      poll();
    } catch (RuntimeException e) {
      LOG.error("slot monitor of '{}': poll failed", slotName, e);
    }
  }

  /** Looks at the slot now, updates the gauges, logs transitions, notifies the listener. */
  public SlotStatus poll() {
    SlotStatus next;
    synchronized (this) {
      if (closed) {
        return status;
      }
      next = observe();
      SlotStatus previous = status;
      status = next;
      logTransition(previous, next);
    }
    try {
      listener.accept(next);
    } catch (RuntimeException e) {
      LOG.error("slot monitor of '{}': listener failed", slotName, e);
    }
    return next;
  }

  private SlotStatus observe() {
    Instant now = Instant.now();
    try {
      if (session == null) {
        session = connections.open();
      }
      try (PreparedStatement s = session.prepareStatement(SLOT_SQL)) {
        s.setQueryTimeout(queryTimeoutSeconds);
        s.setString(1, slotName);
        try (ResultSet rs = s.executeQuery()) {
          if (!rs.next()) {
            return missing(now, "replication slot '" + slotName + "' does not exist");
          }
          String type = rs.getString("slot_type");
          String database = rs.getString("database");
          String currentDb = rs.getString("current_db");
          if (!"logical".equals(type) || !currentDb.equals(database)) {
            return missing(
                now,
                "replication slot '"
                    + slotName
                    + "' is a "
                    + type
                    + " slot of database "
                    + database
                    + ", not a logical slot of database "
                    + currentDb);
          }
          boolean active = rs.getBoolean("active");
          String walStatus = rs.getString("wal_status");
          long retained = rs.getLong("retained_bytes");
          retained = rs.wasNull() ? -1 : retained;
          long lag = rs.getLong("lag_bytes");
          lag = rs.wasNull() ? -1 : lag;
          String invalidation = rs.getString("invalidation_reason");
          boolean over = retained >= 0 && retained > thresholdBytes;
          if ("lost".equals(walStatus) || invalidation != null) {
            return new SlotStatus(
                slotName,
                SlotState.LOST,
                active,
                walStatus,
                retained,
                lag,
                over,
                now,
                "replication slot '"
                    + slotName
                    + "' was invalidated (wal_status="
                    + walStatus
                    + ", invalidation_reason="
                    + invalidation
                    + "): the WAL it needed is gone and changes were lost");
          }
          SlotState state = "unreserved".equals(walStatus) ? SlotState.AT_RISK : SlotState.OK;
          String message =
              "replication slot '"
                  + slotName
                  + "' "
                  + (active ? "active" : "inactive")
                  + ", wal_status="
                  + walStatus
                  + ", retained WAL "
                  + retained
                  + " bytes"
                  + (over ? " (over the threshold of " + thresholdBytes + " bytes)" : "")
                  + ", lag "
                  + lag
                  + " bytes";
          return new SlotStatus(
              slotName, state, active, walStatus, retained, lag, over, now, message);
        }
      }
    } catch (SQLException e) {
      PgConnections.closeQuietly(session);
      session = null;
      return new SlotStatus(
          slotName,
          SlotState.UNREACHABLE,
          false,
          null,
          -1,
          -1,
          status.overThreshold(),
          now,
          "cannot query pg_replication_slots at " + connections.safeUrl() + ": " + e.getMessage());
    }
  }

  private SlotStatus missing(Instant now, String message) {
    return new SlotStatus(slotName, SlotState.MISSING, false, null, -1, -1, false, now, message);
  }

  private void logTransition(SlotStatus previous, SlotStatus next) {
    if (next.state() != previous.state()) {
      switch (next.state()) {
        case MISSING:
          LOG.error(
              "{}. The relay must stop: if it streamed from this slot before, recreating the slot"
                  + " skips every change made meanwhile. See docs/operations.md, 'Missing or lost"
                  + " slot'.",
              next.message());
          break;
        case LOST:
          LOG.error(
              "{}. The relay must stop. Drop the slot (SELECT pg_drop_replication_slot('{}');),"
                  + " reset the relay's offsets and re-run the backlog hand-over. See"
                  + " docs/operations.md, 'Missing or lost slot'.",
              next.message(),
              slotName);
          break;
        case AT_RISK:
          LOG.warn(
              "{}: it retains more than max_slot_wal_keep_size and is invalidated at the next"
                  + " checkpoint unless the relay catches up",
              next.message());
          break;
        case UNREACHABLE:
          LOG.warn("slot monitor: {}", next.message());
          break;
        default:
          LOG.info("slot monitor: {}", next.message());
      }
    }
    if (next.overThreshold() && !previous.overThreshold()) {
      LOG.warn(
          "replication slot '{}' retains {} bytes of WAL, over the warning threshold of {} bytes:"
              + " the relay is behind or stopped, and the server's disk fills until it catches up",
          slotName,
          next.retainedWalBytes(),
          thresholdBytes);
    } else if (!next.overThreshold() && previous.overThreshold()) {
      LOG.info(
          "replication slot '{}' is back under the retained-WAL threshold ({} bytes retained)",
          slotName,
          next.retainedWalBytes());
    }
  }

  /** The last observation ({@link SlotState#NOT_CHECKED} before the first poll). */
  public SlotStatus status() {
    return status;
  }

  /** The slot name. */
  public String slotName() {
    return slotName;
  }

  /**
   * For {@code /health}: down only when the slot is {@link SlotState#MISSING missing} or {@link
   * SlotState#LOST lost} (restarting the relay does not help then, but the relay stops anyway).
   */
  public HealthStatus health() {
    SlotStatus s = status;
    return s.state().fatal() ? HealthStatus.down(s.message()) : HealthStatus.up("slot checked");
  }

  /**
   * For {@code /ready}: up only when the slot was found usable and its retained WAL is under the
   * threshold.
   */
  public HealthStatus readiness() {
    SlotStatus s = status;
    if (s.state() != SlotState.OK && s.state() != SlotState.AT_RISK) {
      return HealthStatus.down(s.message());
    }
    if (s.overThreshold()) {
      return HealthStatus.down(
          "slot '"
              + slotName
              + "' retains "
              + s.retainedWalBytes()
              + " bytes of WAL, over the threshold of "
              + thresholdBytes);
    }
    return HealthStatus.up("slot '" + slotName + "' retains " + s.retainedWalBytes() + " bytes");
  }

  /** Stops polling and closes the session. The gauges keep reporting the last observation. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      PgConnections.closeQuietly(session);
      session = null;
    }
    scheduler.shutdownNow();
  }

  /** Settings of a {@link SlotMonitor}; {@link #build()} checks them all at once. */
  public static final class Builder {
    private String jdbcUrl;
    private String user;
    private String password;
    private String slotName;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private long retainedWalWarningBytes = DEFAULT_RETAINED_WAL_WARNING_BYTES;
    private Duration sessionTimeout = DEFAULT_SESSION_TIMEOUT;
    private MeterRegistry meterRegistry;
    private Consumer<SlotStatus> listener = s -> {};

    private Builder() {}

    /** {@code jdbc:postgresql://host:port/database[?params]}: the database of the slot. */
    public Builder jdbcUrl(String jdbcUrl) {
      this.jdbcUrl = jdbcUrl;
      return this;
    }

    /** Database user. */
    public Builder user(String user) {
      this.user = user;
      return this;
    }

    /** Password; never logged. */
    public Builder password(String password) {
      this.password = password;
      return this;
    }

    /** The relay's replication slot (config {@code source.slot}). */
    public Builder slotName(String slotName) {
      this.slotName = slotName;
      return this;
    }

    /** Interval between polls (default {@link #DEFAULT_POLL_INTERVAL}). */
    public Builder pollInterval(Duration pollInterval) {
      this.pollInterval = pollInterval;
      return this;
    }

    /**
     * Retained WAL above which the monitor warns and {@link #readiness()} is down (config {@code
     * monitoring.retained-wal-warning}; default {@link #DEFAULT_RETAINED_WAL_WARNING_BYTES}).
     */
    public Builder retainedWalWarningBytes(long bytes) {
      this.retainedWalWarningBytes = bytes;
      return this;
    }

    /** Connect, socket and query timeout (default {@link #DEFAULT_SESSION_TIMEOUT}). */
    public Builder sessionTimeout(Duration sessionTimeout) {
      this.sessionTimeout = sessionTimeout;
      return this;
    }

    /** Registry for the gauges; none registered when absent. */
    public Builder meterRegistry(MeterRegistry meterRegistry) {
      this.meterRegistry = meterRegistry;
      return this;
    }

    /** Called with every observation, on the polling thread. */
    public Builder listener(Consumer<SlotStatus> listener) {
      this.listener = listener;
      return this;
    }

    /** Validates every setting and creates the monitor (it connects on the first poll). */
    public SlotMonitor build() {
      Problems p = new Problems("SlotMonitor");
      p.check(
          jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:"),
          "jdbcUrl",
          jdbcUrl == null ? "missing" : PgConnections.maskQuery(jdbcUrl),
          "give jdbc:postgresql://host:port/database");
      p.check(
          slotName == null || !SLOT_NAME.matcher(slotName).matches(),
          "slotName",
          slotName == null ? "missing" : "'" + slotName + "'",
          "PostgreSQL slot names are 1-63 lower-case letters, digits and underscores");
      p.check(
          pollInterval == null || pollInterval.toMillis() < 1,
          "pollInterval",
          pollInterval,
          "give a positive duration, e.g. 10s");
      p.check(
          sessionTimeout == null || sessionTimeout.toMillis() < 1,
          "sessionTimeout",
          sessionTimeout,
          "give a positive duration, e.g. 5s");
      p.check(
          retainedWalWarningBytes < 0,
          "retainedWalWarningBytes",
          retainedWalWarningBytes,
          "give a size in bytes >= 0, e.g. 1073741824 for 1 GiB");
      p.check(listener == null, "listener", "null", "give a listener or leave the default");
      p.throwIfAny();
      return new SlotMonitor(this);
    }
  }
}
