package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.BenchResults.Ratio;
import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.relay.internal.KafkaPublisher;
import dev.unpoll.samples.orders.LegacySchema;
import dev.unpoll.samples.orders.migrated.RelayConfigs;
import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * R1 of issue 13: how fast the relay drains a pending backlog of the legacy table, against the two
 * physical ceilings measured in the same run on the same servers. See docs/benchmarks.md, section
 * "R1: relay drain rate vs the ceilings".
 *
 * <p>One PostgreSQL and one Kafka broker (testkit, in this JVM). Before the backlog is written,
 * every arm of every round gets its own replication slot, so each reads the same rows from the same
 * WAL. Then {@code rows} rows are inserted into {@code shop.order_integration} (status {@code NEW},
 * {@code tx.rows} rows per transaction) and the rounds run, each arm once per round in a rotated
 * order:
 *
 * <ul>
 *   <li>{@code ceiling.decode}: pgjdbc's replication API reading the slot with pgoutput ({@code
 *       proto_version 1}, the relay's publication), discarding every message and confirming each
 *       commit, until the commit of the last row;
 *   <li>{@code ceiling.produce}: a plain {@code KafkaProducer} ({@code acks=all}, idempotence, the
 *       relay's batching and compression) sending {@code rows} records shaped like the relay's
 *       (key, value and headers of a real relay record, with each row's id), as fast as it can;
 *   <li>{@code relay}: the relay ({@link Relay}, in this JVM) restarted on a slot and offsets it
 *       made before the backlog: it streams the backlog from the WAL, the path the decode ceiling
 *       measures. Time from {@code start()} to Kafka's acknowledgement of the last row;
 *   <li>{@code relay.backlog}: the relay's first start with {@code backlog: true} on a fresh slot
 *       after the backlog is written: it reads the pending rows in its snapshot (what a team sees
 *       when capture starts on a table with a backlog). Same clock;
 *   <li>{@code stock}: {@link StockOutboxRouter}, Debezium embedded + the Outbox Event Router + a
 *       plain producer, restarted on its own slot and offsets like {@code relay}. Same clock.
 * </ul>
 *
 * The result of a round is relay ÷ min(ceiling.decode, ceiling.produce). Every arm is checked
 * (every row seen exactly once by count, every topic holds exactly {@code rows} records); a failed
 * check aborts the run. A warm-up phase of {@code warmup.rows} rows (one round) runs first and is
 * not reported.
 *
 * <pre>
 * java -Xms2g -Xmx2g -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.R1Drain [--publish]
 * </pre>
 *
 * System properties: {@code rows} (default {@value #DEFAULT_ROWS}), {@code rounds} (default {@value
 * #DEFAULT_ROUNDS}), {@code warmup.rows} (default {@value #DEFAULT_WARMUP_ROWS}, 0: none), {@code
 * tx.rows} rows per backlog transaction (default {@value #DEFAULT_TX_ROWS}), {@code backlog.arm},
 * {@code stock.arm} (default true). {@code --publish} merges the measures into {@code
 * docs/benchmarks/results.json} (or {@code -Dresults=path}).
 */
public final class R1Drain {
  static final int DEFAULT_ROWS = 1_000_000;
  static final int DEFAULT_ROUNDS = 3;
  static final int DEFAULT_WARMUP_ROWS = 50_000;
  static final int DEFAULT_TX_ROWS = 100;
  static final double GOAL = 0.6;
  static final String PUBLICATION = "unpoll_shop_integration";
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** Rows {@code ?..?} as the samples' writer inserts them; returns the first and last id. */
  private static final String INSERT_ROWS =
      "WITH i AS (INSERT INTO shop.order_integration (order_id, event_type, payload)"
          + " SELECT g, 'OrderPlaced', jsonb_build_object('orderId', g, 'customer',"
          + " 'customer-' || g, 'amount', 10.50::numeric) FROM generate_series(?, ?) g"
          + " RETURNING id) SELECT min(id), max(id) FROM i";

  private static final long CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

  /** The arms. */
  enum Arm {
    DECODE("ceiling.decode"),
    RELAY("relay"),
    BACKLOG("relay.backlog"),
    STOCK("stock"),
    ENGINE("engine.discard"),
    PRODUCE("ceiling.produce");

    final String label;

    Arm(String label) {
      this.label = label;
    }
  }

  /** One arm's run: rows, wall time, and CPU of this JVM and of every PostgreSQL process. */
  record Run(
      Arm arm,
      int round,
      long rows,
      double seconds,
      double firstSeconds,
      double jvmCpu,
      double dbCpu,
      Map<String, Double> threads) {
    double rate() {
      return rows / seconds;
    }

    /** The rate after the first row (relay arms: without the start-up), NaN if not known. */
    double rateAfterFirst() {
      return Double.isNaN(firstSeconds) ? Double.NaN : (rows - 1) / (seconds - firstSeconds);
    }
  }

  /** Settings of one run. */
  record Settings(
      int rows,
      int rounds,
      int warmupRows,
      int txRows,
      boolean backlogArm,
      boolean stockArm,
      boolean engineArm,
      boolean steady) {
    Settings(
        int rows, int rounds, int warmupRows, int txRows, boolean backlogArm, boolean stockArm) {
      this(rows, rounds, warmupRows, txRows, backlogArm, stockArm, true, false);
    }

    static Settings fromSystemProperties() {
      return new Settings(
          Integer.getInteger("rows", DEFAULT_ROWS),
          Integer.getInteger("rounds", DEFAULT_ROUNDS),
          Integer.getInteger("warmup.rows", DEFAULT_WARMUP_ROWS),
          Integer.getInteger("tx.rows", DEFAULT_TX_ROWS),
          Boolean.parseBoolean(System.getProperty("backlog.arm", "true")),
          Boolean.parseBoolean(System.getProperty("stock.arm", "true")),
          Boolean.parseBoolean(System.getProperty("engine.arm", "true")),
          Boolean.parseBoolean(System.getProperty("steady", "false")));
    }

    List<Arm> arms() {
      List<Arm> arms = new ArrayList<>(List.of(Arm.values()));
      if (!backlogArm) {
        arms.remove(Arm.BACKLOG);
      }
      if (!stockArm) {
        arms.remove(Arm.STOCK);
      }
      if (!engineArm) {
        arms.remove(Arm.ENGINE);
      }
      return arms;
    }
  }

  /** A relay record to copy: its key, value and headers, and the row id they carry. */
  record Template(byte[] key, byte[] value, List<Header> headers, long id) {}

  private final EmbeddedPostgresServer postgres;
  private final EmbeddedKafkaBroker broker;
  private final TestPostgres pg;
  private final TestKafka kafka;
  private Template template;
  private long firstEventNanos;
  private long dbTicksAtEnd;
  private ThreadCpu.Sample threadsAtEnd;
  private Path stockDir;

  private R1Drain(EmbeddedPostgresServer postgres, EmbeddedKafkaBroker broker) {
    this.postgres = postgres;
    this.broker = broker;
    this.pg = postgres.postgres();
    this.kafka = broker.kafka();
  }

  public static void main(String[] args) throws Exception {
    boolean publish = List.of(args).contains("--publish");
    Settings settings = Settings.fromSystemProperties();
    Result result = run(settings);
    report(settings, result, publish);
  }

  /** What a run measured: the drain arms and, with {@code -Dsteady=true}, the steady stream. */
  record Result(List<Run> runs, List<Step> steps) {}

  /**
   * One step of the steady stream: the writer's offered and achieved rate, the relay's delivered
   * rate in the same window, the rows it was behind when the writer stopped, and how long it took
   * to catch up.
   */
  record Step(
      double offered, double written, double delivered, long lagAtEnd, double catchUpSeconds) {
    /** Kept up: less than a second's worth of rows behind when the writer stopped. */
    boolean keptUp() {
      return lagAtEnd <= offered;
    }

    boolean writerLimited() {
      return written < 0.95 * offered;
    }
  }

  /** Runs the warm-up phase and the measured rounds; returns the measured runs. */
  static Result run(Settings s) throws Exception {
    if (s.rows() < 1 || s.rounds() < 1 || s.warmupRows() < 0 || s.txRows() < 1) {
      throw new IllegalArgumentException(s.toString());
    }
    EmbeddedPostgresServer postgres =
        EmbeddedPostgresServer.builder()
            .setting("fsync", "on")
            .setting("full_page_writes", "on")
            .setting("synchronous_commit", "on")
            .start();
    try (postgres;
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().start()) {
      R1Drain bench = new R1Drain(postgres, broker);
      bench.setUp();
      System.out.printf(
          Locale.ROOT,
          "JDK %s (%s), %d CPUs, PostgreSQL %s, Kafka %s in this JVM; %d rows (%d per transaction),"
              + " %d rounds, warm-up %d rows; arms %s%n",
          System.getProperty("java.version"),
          System.getProperty("java.vm.name"),
          Runtime.getRuntime().availableProcessors(),
          bench.setting("server_version"),
          AppInfoParser.getVersion(),
          s.rows(),
          s.txRows(),
          s.rounds(),
          s.warmupRows(),
          s.arms().stream().map(a -> a.label).toList());
      if (s.warmupRows() > 0) {
        bench.phase("w", s.warmupRows(), 1, s);
      }
      List<Run> runs = bench.phase("m", s.rows(), s.rounds(), s);
      List<Step> steps = s.steady() ? bench.steady() : List.of();
      return new Result(runs, steps);
    }
  }

  private void setUp() throws SQLException {
    LegacySchema.create(pg.dataSource());
    try (Connection c = pg.connect();
        Statement st = c.createStatement()) {
      // before any slot: pgoutput looks the publication up as of each change's WAL position. The
      // relay wants its heartbeat table in it too.
      st.execute(RelayNames.heartbeatTableDdl());
      st.execute(
          "CREATE PUBLICATION "
              + PUBLICATION
              + " FOR TABLE shop.order_integration, "
              + RelayNames.HEARTBEAT_TABLE.quoted());
    }
  }

  /**
   * One phase: a fresh table, a slot per arm and round, the backlog, then the rounds. Slots,
   * offsets and the rows are dropped at the end.
   */
  private List<Run> phase(String phase, int rows, int rounds, Settings s) throws Exception {
    try (Connection c = pg.connect();
        Statement st = c.createStatement()) {
      st.execute("TRUNCATE shop.order_integration");
    }
    List<String> slots = new ArrayList<>();
    for (int r = 1; r <= rounds; r++) {
      String decode = slot(phase, Arm.DECODE, r);
      try (Connection c = pg.connect();
          Statement st = c.createStatement()) {
        st.execute("SELECT pg_create_logical_replication_slot('" + decode + "', 'pgoutput')");
      }
      slots.add(decode);
      // the relay's own slot and offsets, made by a first start on the empty table
      String relaySlot = slot(phase, Arm.RELAY, r);
      slots.add(relaySlot);
      primeRelay(relaySlot, topic(phase, Arm.RELAY, r));
      if (s.stockArm()) {
        String stockSlot = slot(phase, Arm.STOCK, r);
        slots.add(stockSlot);
        primeStock(stockSlot, topic(phase, Arm.STOCK, r), false);
      }
      if (s.engineArm()) {
        String engineSlot = slot(phase, Arm.ENGINE, r);
        slots.add(engineSlot);
        primeStock(engineSlot, topic(phase, Arm.ENGINE, r), true);
      }
    }
    long started = System.nanoTime();
    long[] ids = writeBacklog(rows, s.txRows());
    System.out.printf(
        Locale.ROOT,
        "[%s] backlog of %d rows (ids %d..%d) written in %.1f s%n",
        phase,
        rows,
        ids[0],
        ids[1],
        (System.nanoTime() - started) / 1e9);
    List<Arm> arms = s.arms();
    List<Run> runs = new ArrayList<>();
    try {
      for (int r = 1; r <= rounds; r++) {
        for (int i = 0; i < arms.size(); i++) {
          Arm arm = arms.get((i + r - 1) % arms.size());
          if (arm == Arm.PRODUCE && template == null) {
            continue; // no relay record to copy yet; rotation puts a relay arm first next round
          }
          if (arm == Arm.BACKLOG) {
            slots.add(slot(phase, arm, r));
          }
          Run run = runArm(phase, arm, r, rows, ids);
          runs.add(run);
          System.out.printf(
              Locale.ROOT,
              "[%s] round %d %-15s %,10.0f rows/s  %7.2f s (first row at %.2f s, then %,.0f rows/s)"
                  + "  JVM CPU %6.2f s  DB CPU %6.2f s%n",
              phase,
              r,
              arm.label,
              run.rate(),
              run.seconds(),
              run.firstSeconds(),
              run.rateAfterFirst(),
              run.jvmCpu(),
              run.dbCpu());
          if (arm != Arm.DECODE && arm != Arm.PRODUCE) {
            System.out.printf(
                "[%s] round %d %-15s JVM CPU by thread: %s%n",
                phase, r, arm.label, ThreadCpu.perRow(run.threads(), run.rows()));
          }
        }
      }
    } finally {
      for (String slot : slots) {
        dropSlot(slot);
      }
    }
    return runs;
  }

  static String slot(String phase, Arm arm, int round) {
    return "r1_" + phase + "_" + arm.name().toLowerCase(Locale.ROOT) + "_" + round;
  }

  static String topic(String phase, Arm arm, int round) {
    return "r1." + phase + "." + arm.name().toLowerCase(Locale.ROOT) + "." + round;
  }

  private Run runArm(String phase, Arm arm, int round, int rows, long[] ids) throws Exception {
    String topic = topic(phase, arm, round);
    if (arm == Arm.BACKLOG || arm == Arm.PRODUCE) {
      kafka.createTopic(topic, 1);
    }
    System.gc();
    double jvm0 = jvmCpuSeconds();
    ThreadCpu.Sample threads0 = ThreadCpu.sample(jvm0);
    threadsAtEnd = null;
    long db0 = postgresTicks();
    long t0 = System.nanoTime();
    firstEventNanos = 0;
    dbTicksAtEnd = 0;
    long seen =
        switch (arm) {
          case DECODE -> decode(slot(phase, arm, round), rows);
          case RELAY -> relay(slot(phase, arm, round), topic, false, rows);
          case BACKLOG -> relay(slot(phase, arm, round), topic, true, rows);
          case STOCK -> stock(slot(phase, arm, round), topic, rows, false);
          case ENGINE -> stock(slot(phase, arm, round), topic, rows, true);
          case PRODUCE -> produce(topic, ids[0], rows);
        };
    double seconds = (System.nanoTime() - t0) / 1e9;
    double first = firstEventNanos == 0 ? Double.NaN : (firstEventNanos - t0) / 1e9;
    double jvm = jvmCpuSeconds() - jvm0;
    ThreadCpu.Sample threads1 = threadsAtEnd != null ? threadsAtEnd : ThreadCpu.sample(jvm0 + jvm);
    Map<String, Double> threads = ThreadCpu.between(threads0, threads1);
    if (arm != Arm.DECODE && arm != Arm.PRODUCE) {
      System.out.printf(
          "[%s] round %d %-15s busiest other threads: %s%n",
          phase, round, arm.label, ThreadCpu.busiestOthers(threads0, threads1, rows, 3));
    }
    long db1 = dbTicksAtEnd != 0 ? dbTicksAtEnd : postgresTicks();
    double db = (db1 - db0) / (double) CLOCK_TICKS_PER_SECOND;
    if (seen != rows) {
      throw new IllegalStateException(arm.label + " round " + round + ": " + seen + " of " + rows);
    }
    if (arm != Arm.DECODE && arm != Arm.ENGINE) {
      long end = endOffset(topic);
      if (end != rows) {
        throw new IllegalStateException(
            arm.label
                + " round "
                + round
                + ": topic "
                + topic
                + " holds "
                + end
                + " records, not "
                + rows);
      }
      if (template == null && (arm == Arm.RELAY || arm == Arm.BACKLOG)) {
        template = template(topic);
      }
    }
    return new Run(arm, round, rows, seconds, first, jvm, db, threads);
  }

  // --- backlog -------------------------------------------------------------------------------

  /**
   * Inserts {@code rows} pending rows as the samples' writer would, returns [first id, last id].
   */
  private long[] writeBacklog(int rows, int txRows) throws SQLException {
    long first = -1;
    long last = -1;
    try (Connection c = pg.connect();
        PreparedStatement ps = c.prepareStatement(INSERT_ROWS)) {
      c.setAutoCommit(true);
      for (int done = 0; done < rows; done += txRows) {
        int n = Math.min(txRows, rows - done);
        ps.setLong(1, done + 1L);
        ps.setLong(2, done + (long) n);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (first < 0) {
            first = rs.getLong(1);
          }
          last = rs.getLong(2);
        }
      }
    }
    if (last - first + 1 != rows) {
      throw new IllegalStateException("backlog ids " + first + ".." + last + " for " + rows);
    }
    return new long[] {first, last};
  }

  // --- ceiling.decode ------------------------------------------------------------------------

  /**
   * Reads {@code slot} with pgoutput until the commit that brings the inserts seen to {@code rows};
   * confirms every commit. Returns the inserts seen.
   */
  private long decode(String slot, int rows) throws SQLException {
    Properties props = new Properties();
    PGProperty.USER.set(props, pg.user());
    PGProperty.PASSWORD.set(props, pg.password());
    PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
    PGProperty.REPLICATION.set(props, "database");
    PGProperty.PREFER_QUERY_MODE.set(props, "simple");
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), props)) {
      PGReplicationStream stream =
          c.unwrap(PGConnection.class)
              .getReplicationAPI()
              .replicationStream()
              .logical()
              .withSlotName(slot)
              .withSlotOption("proto_version", 1)
              .withSlotOption("publication_names", PUBLICATION)
              .withStatusInterval(1, TimeUnit.SECONDS)
              .start();
      long inserts = 0;
      int relation = -1; // shop.order_integration's relid, from its Relation message
      try {
        while (true) {
          ByteBuffer m = stream.read();
          int at = m.position();
          byte type = m.get(at);
          if (type == 'R') {
            int relid = m.getInt(at + 1);
            int p = at + 5;
            StringBuilder name = new StringBuilder();
            while (m.get(p) != 0) {
              name.append((char) m.get(p++));
            }
            name.append('.');
            p++;
            while (m.get(p) != 0) {
              name.append((char) m.get(p++));
            }
            if (name.toString().equals("shop.order_integration")) {
              relation = relid;
            }
          } else if (type == 'I' && m.getInt(at + 1) == relation) {
            if (inserts++ == 0) {
              firstEventNanos = System.nanoTime();
            }
          } else if (type == 'C') {
            LogSequenceNumber lsn = stream.getLastReceiveLSN();
            stream.setAppliedLSN(lsn);
            stream.setFlushedLSN(lsn);
            if (inserts >= rows) {
              stream.forceUpdateStatus();
              // while the walsender still runs: once it exits its CPU time shows only after the
              // postmaster reaps it
              dbTicksAtEnd = postgresTicks();
              return inserts;
            }
          }
        }
      } finally {
        stream.close();
      }
    }
  }

  // --- relay ---------------------------------------------------------------------------------

  /** The samples' legacy relay configuration on {@code slot} and {@code topic}. */
  private UnpollConfig relayConfig(String slot, String topic, boolean backlog) {
    String text = RelayYaml.legacy();
    text = replaceOnce(text, "slot: unpoll_shop_integration", "slot: " + slot);
    text = replaceOnce(text, "topic: " + RelayConfigs.LEGACY_TOPIC, "topic: " + topic);
    text = replaceOnce(text, "backlog: true", "backlog: " + backlog);
    Map<String, String> env =
        Map.of(
            "ORDERS_DB_URL", pg.jdbcUrl(),
            "ORDERS_DB_USER", pg.user(),
            "ORDERS_DB_PASSWORD", pg.password(),
            "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    return UnpollConfig.parse(text, env);
  }

  private static String replaceOnce(String text, String from, String to) {
    int at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0) {
      throw new IllegalStateException(
          "relay-legacy.yaml changed: \"" + from + "\" is not there exactly once");
    }
    return text.replace(from, to);
  }

  /**
   * Starts the relay on the empty table until it has stored an offset, then stops it: its next
   * start resumes from there and streams the backlog written in between.
   */
  private void primeRelay(String slot, String topic) throws Exception {
    kafka.createTopic(topic, 1);
    UnpollConfig config = relayConfig(slot, topic, false);
    try (Relay relay =
        Relay.builder().config(config).meterRegistry(new SimpleMeterRegistry()).build()) {
      relay.start();
      await(relay::isStreaming, "relay on " + slot + " streaming");
      String offsets = RelayNames.offsetsTable(slot);
      try (Connection c = pg.connect()) { // one connection: each new one costs a SCRAM handshake
        await(() -> rowsIn(c, offsets) > 0, "relay on " + slot + " storing an offset");
      }
    }
  }

  /** Runs the relay until Kafka acknowledged {@code rows} events; returns how many it counted. */
  private long relay(String slot, String topic, boolean backlog, int rows) throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (Relay relay =
        Relay.builder().config(relayConfig(slot, topic, backlog)).meterRegistry(meters).build()) {
      relay.start();
      long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
      long events = 0;
      while ((events = events(meters)) < rows) {
        if (events > 0 && firstEventNanos == 0) {
          firstEventNanos = System.nanoTime();
        }
        if (!relay.isHealthy() && relay.lastError().isPresent()) {
          throw new IllegalStateException("relay on " + slot + ": " + relay.lastError().get());
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "relay on " + slot + ": " + events + " of " + rows + " after 30 minutes");
        }
        LockSupport.parkNanos(1_000_000);
      }
      threadsAtEnd = ThreadCpu.sample(jvmCpuSeconds()); // before close() ends its threads
      return events;
    }
  }

  private static long events(SimpleMeterRegistry meters) {
    double sum = 0;
    for (Counter c : meters.find("unpoll.relay.events").counters()) {
      sum += c.count();
    }
    return (long) sum;
  }

  // --- steady stream -------------------------------------------------------------------------

  /**
   * The relay (fresh slot, streaming) while one writer inserts at increasing rates ({@code
   * steady.from} rows/s, times {@code steady.factor} per step, {@code steady.seconds} per step,
   * {@code steady.tx.rows} rows per transaction), until the relay is more than a second's worth of
   * rows behind when a step's writing ends, or the writer cannot reach the rate.
   */
  private List<Step> steady() throws Exception {
    double from = Double.parseDouble(System.getProperty("steady.from", "500"));
    double factor = Double.parseDouble(System.getProperty("steady.factor", "1.5"));
    double seconds = Double.parseDouble(System.getProperty("steady.seconds", "15"));
    int txRows = Integer.getInteger("steady.tx.rows", 10);
    double upTo = Double.parseDouble(System.getProperty("steady.to", "200000"));
    try (Connection c = pg.connect();
        Statement st = c.createStatement()) {
      st.execute("TRUNCATE shop.order_integration");
    }
    String slot = "r1_s_relay";
    String topic = "r1.s.relay";
    kafka.createTopic(topic, 1);
    List<Step> steps = new ArrayList<>();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (Relay relay =
        Relay.builder().config(relayConfig(slot, topic, false)).meterRegistry(meters).build()) {
      relay.start();
      await(relay::isStreaming, "relay on " + slot + " streaming");
      long written = 0;
      try (Connection c = pg.connect();
          PreparedStatement ps = c.prepareStatement(INSERT_ROWS)) {
        for (double rate = from; rate <= upTo; rate *= factor) {
          long n = Math.round(rate * seconds);
          long before = events(meters);
          if (before != written) {
            throw new IllegalStateException(
                "steady: relay published " + before + " rows, " + written + " written");
          }
          long t0 = System.nanoTime();
          long rows = 0;
          while (rows < n) {
            long wait = t0 + (long) (rows / rate * 1e9) - System.nanoTime();
            if (wait > 0) {
              LockSupport.parkNanos(wait);
            }
            int m = (int) Math.min(txRows, n - rows);
            ps.setLong(1, written + rows + 1);
            ps.setLong(2, written + rows + m);
            ps.executeQuery().close();
            rows += m;
          }
          long t1 = System.nanoTime();
          long delivered = events(meters) - before;
          double writeSeconds = (t1 - t0) / 1e9;
          long target = before + n;
          long deadline = t1 + Duration.ofMinutes(10).toNanos();
          while (events(meters) < target) {
            if (relay.lastError().isPresent() && !relay.isHealthy()) {
              throw new IllegalStateException("relay on " + slot + ": " + relay.lastError().get());
            }
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException("steady: relay did not catch up in 10 minutes");
            }
            LockSupport.parkNanos(1_000_000);
          }
          written += n;
          Step step =
              new Step(
                  rate,
                  n / writeSeconds,
                  delivered / writeSeconds,
                  n - delivered,
                  (System.nanoTime() - t1) / 1e9);
          steps.add(step);
          System.out.printf(
              Locale.ROOT,
              "[steady] offered %,8.0f rows/s: written %,8.0f rows/s, relay delivered %,8.0f rows/s"
                  + " in the window, %,d rows behind at its end, caught up %.2f s later%s%n",
              step.offered(),
              step.written(),
              step.delivered(),
              step.lagAtEnd(),
              step.catchUpSeconds(),
              step.writerLimited() ? " (writer could not reach the rate)" : "");
          if (!step.keptUp() || step.writerLimited()) {
            break;
          }
        }
      }
      long end = endOffset(topic);
      if (end != written) {
        throw new IllegalStateException(
            "steady: topic " + topic + " holds " + end + " records, " + written + " written");
      }
    } finally {
      dropSlot(slot);
    }
    return steps;
  }

  // --- stock ---------------------------------------------------------------------------------

  private Path stockOffsets(String slot) throws IOException {
    if (stockDir == null) {
      stockDir = java.nio.file.Files.createTempDirectory("r1-stock-offsets");
    }
    return stockDir.resolve(slot + ".dat");
  }

  /** Like {@link #primeRelay}: the stock engine's slot and stored offset, before the backlog. */
  private void primeStock(String slot, String topic, boolean discard) throws Exception {
    kafka.createTopic(topic, 1);
    try (StockOutboxRouter stock = stockEngine(slot, topic, discard)) {
      stock.start();
      await(
          () -> {
            if (stock.failure().isPresent()) {
              throw new IllegalStateException("stock on " + slot, stock.failure().get());
            }
            return stock.offsetsStored();
          },
          "stock engine on " + slot + " storing an offset");
    }
  }

  /** Runs the stock engine until Kafka acknowledged {@code rows} routed records. */
  private long stock(String slot, String topic, int rows, boolean discard) throws Exception {
    try (StockOutboxRouter stock = stockEngine(slot, topic, discard)) {
      stock.start();
      long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
      long published;
      while ((published = stock.published()) < rows) {
        if (published > 0 && firstEventNanos == 0) {
          firstEventNanos = System.nanoTime();
        }
        if (stock.failure().isPresent()) {
          throw new IllegalStateException("stock on " + slot, stock.failure().get());
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "stock on " + slot + ": " + published + " of " + rows + " after 30 minutes");
        }
        LockSupport.parkNanos(1_000_000);
      }
      threadsAtEnd = ThreadCpu.sample(jvmCpuSeconds()); // before close() ends its threads
      return published;
    }
  }

  private StockOutboxRouter stockEngine(String slot, String topic, boolean discard)
      throws IOException {
    return new StockOutboxRouter(
        pg,
        slot,
        PUBLICATION,
        topic,
        stockOffsets(slot),
        producerSettings("r1-stock"),
        discard ? StockOutboxRouter.Mode.DISCARD : StockOutboxRouter.Mode.ROUTE);
  }

  /** The relay's producer settings ({@code acks=all}, idempotence, its batching) for a client. */
  private Map<String, Object> producerSettings(String clientId) {
    Map<String, Object> props = new HashMap<>();
    props.putAll(KafkaPublisher.DEFAULTS);
    props.putAll(KafkaPublisher.FIXED);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return props;
  }

  // --- ceiling.produce -----------------------------------------------------------------------

  /**
   * Sends {@code rows} copies of the template, each with a backlog row's id in its key and {@code
   * ce_id}, with the relay's producer settings; returns the acknowledged count.
   */
  private long produce(String topic, long firstId, int rows) throws Exception {
    Map<String, Object> props = producerSettings("r1-ceiling-produce");
    AtomicLong acked = new AtomicLong();
    AtomicLong firstAck = new AtomicLong();
    AtomicReference<Exception> failure = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(rows);
    Template t = template;
    String templateId = Long.toString(t.id());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < rows; i++) {
        String id = Long.toString(firstId + i);
        List<Header> headers = new ArrayList<>(t.headers().size());
        for (Header h : t.headers()) {
          headers.add(new RecordHeader(h.key(), withId(h.value(), templateId, id)));
        }
        byte[] key = withId(t.key(), templateId, id);
        producer.send(
            new ProducerRecord<>(topic, null, key, t.value(), headers),
            (md, e) -> {
              if (e != null) {
                failure.compareAndSet(null, e);
              } else if (acked.incrementAndGet() == 1) {
                firstAck.set(System.nanoTime());
              }
              done.countDown();
            });
      }
      if (!done.await(30, TimeUnit.MINUTES)) {
        throw new IllegalStateException("ceiling.produce: " + acked.get() + " of " + rows);
      }
    }
    if (failure.get() != null) {
      throw new IllegalStateException("ceiling.produce failed", failure.get());
    }
    firstEventNanos = firstAck.get();
    return acked.get();
  }

  /**
   * {@code bytes} with the template's row id replaced by {@code id} where it is the whole text (the
   * key) or its last {@code :}-separated part ({@code ce_id}, {@code ce_subject}); else unchanged.
   */
  static byte[] withId(byte[] bytes, String templateId, String id) {
    if (bytes == null) {
      return null;
    }
    String text = new String(bytes, StandardCharsets.UTF_8);
    if (text.equals(templateId)) {
      return id.getBytes(StandardCharsets.UTF_8);
    }
    if (text.endsWith(":" + templateId)) {
      return (text.substring(0, text.length() - templateId.length()) + id)
          .getBytes(StandardCharsets.UTF_8);
    }
    return bytes;
  }

  /** The first record of a relay topic, as the produce ceiling's template. */
  private Template template(String topic) {
    List<ConsumerRecord<byte[], byte[]>> records = kafka.readFromBeginning(topic, 1, TIMEOUT);
    if (records.isEmpty()) {
      throw new IllegalStateException("no record in " + topic + " to copy");
    }
    ConsumerRecord<byte[], byte[]> r = records.get(0);
    Header ceId = r.headers().lastHeader("ce_id");
    if (ceId == null) {
      throw new IllegalStateException("relay record without ce_id in " + topic);
    }
    String id = new String(ceId.value(), StandardCharsets.UTF_8);
    long rowId = Long.parseLong(id.substring(id.lastIndexOf(':') + 1));
    List<Header> headers = List.of(r.headers().toArray());
    System.out.printf(
        Locale.ROOT,
        "template (%s): key %d bytes, value %d bytes, %d headers; ce_id %s%n",
        topic,
        r.key() == null ? 0 : r.key().length,
        r.value() == null ? 0 : r.value().length,
        headers.size(),
        id);
    return new Template(r.key(), r.value(), headers, rowId);
  }

  // --- reporting -----------------------------------------------------------------------------

  static void report(Settings s, Result result, boolean publish) throws IOException {
    List<Run> runs = result.runs();
    Map<Arm, List<Double>> rates = new EnumMap<>(Arm.class);
    Map<Integer, Map<Arm, Run>> byRound = new LinkedHashMap<>();
    for (Run r : runs) {
      rates.computeIfAbsent(r.arm(), a -> new ArrayList<>()).add(r.rate());
      byRound.computeIfAbsent(r.round(), k -> new EnumMap<>(Arm.class)).put(r.arm(), r);
    }
    List<Double> ratios = new ArrayList<>();
    List<Double> toDecode = new ArrayList<>();
    List<Double> toProduce = new ArrayList<>();
    List<Double> backlogRatios = new ArrayList<>();
    List<Double> stockRatios = new ArrayList<>();
    List<Double> engineRatios = new ArrayList<>();
    List<Double> baselines = new ArrayList<>();
    System.out.println();
    System.out.println(
        "| round | ceiling.decode rows/s | ceiling.produce records/s | relay rows/s | relay ÷ min"
            + " | relay.backlog rows/s | relay.backlog ÷ min | stock rows/s | relay ÷ stock |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    for (Map.Entry<Integer, Map<Arm, Run>> e : byRound.entrySet()) {
      Map<Arm, Run> m = e.getValue();
      Run decode = m.get(Arm.DECODE);
      Run produce = m.get(Arm.PRODUCE);
      Run relay = m.get(Arm.RELAY);
      Run backlog = m.get(Arm.BACKLOG);
      Run stock = m.get(Arm.STOCK);
      if (decode == null || produce == null || relay == null) {
        continue;
      }
      double min = Math.min(decode.rate(), produce.rate());
      baselines.add(min);
      ratios.add(relay.rate() / min);
      toDecode.add(relay.rate() / decode.rate());
      toProduce.add(relay.rate() / produce.rate());
      if (backlog != null) {
        backlogRatios.add(backlog.rate() / min);
      }
      if (stock != null) {
        stockRatios.add(relay.rate() / stock.rate());
      }
      Run engine = m.get(Arm.ENGINE);
      if (engine != null) {
        engineRatios.add(relay.rate() / engine.rate());
      }
      System.out.printf(
          Locale.ROOT,
          "| r%d | %.0f | %.0f | %.0f | %.3f | %s | %s | %s | %s |%n",
          e.getKey(),
          decode.rate(),
          produce.rate(),
          relay.rate(),
          relay.rate() / min,
          backlog == null ? "" : String.format(Locale.ROOT, "%.0f", backlog.rate()),
          backlog == null ? "" : String.format(Locale.ROOT, "%.3f", backlog.rate() / min),
          stock == null ? "" : String.format(Locale.ROOT, "%.0f", stock.rate()),
          stock == null ? "" : String.format(Locale.ROOT, "%.3f", relay.rate() / stock.rate()));
    }
    System.out.println();
    System.out.println(
        "| arm | median rows/s | min | max | median s to the first row | median rows/s after it"
            + " | median JVM CPU s | median DB CPU s |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (Arm arm : Arm.values()) {
      List<Double> r = rates.get(arm);
      if (r == null) {
        continue;
      }
      List<Double> jvm = runs.stream().filter(x -> x.arm() == arm).map(Run::jvmCpu).toList();
      List<Double> db = runs.stream().filter(x -> x.arm() == arm).map(Run::dbCpu).toList();
      List<Double> first =
          runs.stream().filter(x -> x.arm() == arm).map(Run::firstSeconds).toList();
      List<Double> after =
          runs.stream().filter(x -> x.arm() == arm).map(Run::rateAfterFirst).toList();
      System.out.printf(
          Locale.ROOT,
          "| %s | %.0f | %.0f | %.0f | %.2f | %.0f | %.2f | %.2f |%n",
          arm.label,
          Stats.median(r),
          Stats.min(r),
          Stats.max(r),
          Stats.median(first),
          Stats.median(after),
          Stats.median(jvm),
          Stats.median(db));
    }
    System.out.println();
    System.out.println(
        "Where the JVM's CPU went (median µs per row over rounds; the broker runs in this JVM):");
    System.out.println();
    List<String> groups = List.copyOf(runs.get(0).threads().keySet());
    System.out.println("| arm | " + String.join(" | ", groups) + " | total |");
    System.out.println("|---|" + "---|".repeat(groups.size() + 1));
    for (Arm arm : Arm.values()) {
      List<Run> of = runs.stream().filter(x -> x.arm() == arm).toList();
      if (of.isEmpty()) {
        continue;
      }
      StringBuilder row = new StringBuilder("| " + arm.label + " |");
      for (String g : groups) {
        row.append(
            String.format(
                Locale.ROOT,
                " %.1f |",
                Stats.median(
                    of.stream()
                        .map(x -> x.threads().getOrDefault(g, 0.0) * 1e6 / x.rows())
                        .toList())));
      }
      row.append(
          String.format(
              Locale.ROOT,
              " %.1f |",
              Stats.median(of.stream().map(x -> x.jvmCpu() * 1e6 / x.rows()).toList())));
      System.out.println(row);
    }
    if (ratios.isEmpty()) {
      System.out.println("no complete round: no ratio");
      return;
    }
    Ratio ratio = Ratio.of(ratios);
    System.out.printf(
        Locale.ROOT,
        "%nR1 relay ÷ min(ceiling.decode, ceiling.produce): median %.3f (min %.3f, max %.3f) over"
            + " %d rounds; goal ≥ %.1f: %s%n",
        ratio.median(),
        ratio.min(),
        ratio.max(),
        ratios.size(),
        GOAL,
        ratio.median() >= GOAL ? "met" : "not met");
    if (!stockRatios.isEmpty()) {
      Ratio st = Ratio.of(stockRatios);
      System.out.printf(
          Locale.ROOT,
          "R1 relay ÷ stock (Debezium embedded + Outbox Event Router + plain producer): median %.3f"
              + " (min %.3f, max %.3f); goal ≥ 1.0: %s%n",
          st.median(),
          st.min(),
          st.max(),
          st.median() >= 1.0 ? "met" : "not met");
    }
    if (!engineRatios.isEmpty()) {
      Ratio en = Ratio.of(engineRatios);
      System.out.printf(
          Locale.ROOT,
          "R1 relay ÷ engine.discard (the embedded engine alone, records discarded): median %.3f"
              + " (min %.3f, max %.3f)%n",
          en.median(),
          en.min(),
          en.max());
    }
    Step saturated = null;
    Step overloaded = null;
    boolean writerBound = false;
    for (Step st : result.steps()) {
      if (!st.keptUp()) {
        overloaded = st;
      } else if (st.writerLimited()) {
        writerBound = true; // the relay kept up with all the writer could do
        saturated = saturated == null || st.written() > saturated.written() ? st : saturated;
      } else {
        saturated = st;
      }
    }
    String steadyNote =
        writerBound
            ? "; not the relay's limit: the writer could not write faster (raise steady.tx.rows)"
            : "";
    double ceiling =
        Math.min(Stats.median(rates.get(Arm.DECODE)), Stats.median(rates.get(Arm.PRODUCE)));
    if (saturated != null) {
      System.out.printf(
          Locale.ROOT,
          "R1 steady stream: the relay kept up with %.0f rows/s written (%.3f of min(ceilings) of"
              + " this run)%s%s%n",
          saturated.written(),
          saturated.written() / ceiling,
          steadyNote,
          overloaded == null
              ? ""
              : String.format(
                  Locale.ROOT,
                  "; offered %.0f rows/s it delivered %.0f rows/s and fell %d rows behind",
                  overloaded.offered(),
                  overloaded.delivered(),
                  overloaded.lagAtEnd()));
    }
    if (!publish) {
      return;
    }
    List<Measure> measures = new ArrayList<>();
    measures.add(
        new Measure(
            "R1",
            Stats.median(rates.get(Arm.RELAY)),
            Stats.median(baselines),
            ratio,
            "relay ÷ min(ceiling.decode, ceiling.produce), per round",
            "≥ " + GOAL,
            ratio.median() >= GOAL,
            "rows/s"));
    measures.add(
        new Measure(
            "R1.ceiling.decode",
            Stats.median(rates.get(Arm.DECODE)),
            null,
            Ratio.of(toDecode),
            "relay ÷ ceiling.decode, per round",
            null,
            null,
            "rows/s"));
    measures.add(
        new Measure(
            "R1.ceiling.produce",
            Stats.median(rates.get(Arm.PRODUCE)),
            null,
            Ratio.of(toProduce),
            "relay ÷ ceiling.produce, per round",
            null,
            null,
            "records/s"));
    if (!backlogRatios.isEmpty()) {
      Ratio b = Ratio.of(backlogRatios);
      measures.add(
          new Measure(
              "R1.backlog",
              Stats.median(rates.get(Arm.BACKLOG)),
              Stats.median(baselines),
              b,
              "relay.backlog (first start, snapshot of the pending rows) ÷ min(ceilings), per round",
              "≥ " + GOAL,
              b.median() >= GOAL,
              "rows/s"));
    }
    if (!stockRatios.isEmpty()) {
      Ratio st = Ratio.of(stockRatios);
      measures.add(
          new Measure(
              "R1.stock",
              Stats.median(rates.get(Arm.STOCK)),
              null,
              st,
              "relay ÷ stock (Debezium embedded + Outbox Event Router + plain producer), per round",
              "≥ 1.0",
              st.median() >= 1.0,
              "rows/s"));
    }
    if (!engineRatios.isEmpty()) {
      measures.add(
          new Measure(
              "R1.engine",
              Stats.median(rates.get(Arm.ENGINE)),
              null,
              Ratio.of(engineRatios),
              "relay ÷ engine.discard (Debezium's embedded engine alone, records discarded), per"
                  + " round: what the engine leaves to the relay's own work",
              null,
              null,
              "rows/s"));
    }
    if (saturated != null) {
      double r = saturated.written() / ceiling;
      measures.add(
          new Measure(
              "R1.steady",
              saturated.written(),
              ceiling,
              new Ratio(r, r, r),
              "highest steady write rate the relay kept up with ÷ min(ceiling medians); one"
                  + " ramp, so min = max = median"
                  + steadyNote,
              "≥ " + GOAL,
              r >= GOAL,
              "rows/s"));
    }
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("harness", R1Drain.class.getName());
    settings.put("rows", s.rows());
    settings.put("rows_per_transaction", s.txRows());
    settings.put("rounds", s.rounds());
    settings.put("warmup_rows", s.warmupRows());
    settings.put("arms", s.arms().stream().map(a -> a.label).toList());
    settings.put("steady", s.steady());
    Path file = Path.of(System.getProperty("results", BenchResults.DEFAULT_FILE.toString()));
    BenchResults.merge(file, "R1", settings, measures);
    System.out.println("published to " + file.toAbsolutePath());
    Path chart = file.toAbsolutePath().resolveSibling("r1-throughput.png");
    writeChart(chart, runs);
    System.out.println("chart: " + chart);
  }

  /** The throughput-vs-ceiling chart of the measured rounds: one bar per arm, ceilings first. */
  static void writeChart(Path file, List<Run> runs) throws IOException {
    List<ThroughputChart.Bar> bars = new ArrayList<>();
    for (Arm arm :
        List.of(Arm.DECODE, Arm.PRODUCE, Arm.ENGINE, Arm.STOCK, Arm.RELAY, Arm.BACKLOG)) {
      List<Double> r = runs.stream().filter(x -> x.arm() == arm).map(Run::rate).toList();
      if (!r.isEmpty()) {
        bars.add(new ThroughputChart.Bar(arm.label, Stats.median(r), Stats.min(r), Stats.max(r)));
      }
    }
    ThroughputChart.write(
        file, "R1: draining a pending backlog, each arm against the ceilings (same run)", bars);
  }

  // --- helpers -------------------------------------------------------------------------------

  String setting(String name) throws SQLException {
    try (Connection c = pg.connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static long rowsIn(Connection c, String table) {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      return 0; // not created yet
    }
  }

  private long endOffset(String topic) {
    TopicPartition tp = new TopicPartition(topic, 0);
    try (var consumer =
        new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(
            kafka.consumerConfig("r1-end-offsets"))) {
      return consumer.endOffsets(List.of(tp)).get(tp);
    }
  }

  private void dropSlot(String slot) throws Exception {
    RelaySlots.dropWithRelayState(pg, slot, TIMEOUT);
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      LockSupport.parkNanos(10_000_000);
    }
  }

  private static double jvmCpuSeconds() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime() / 1e9;
    }
    return Double.NaN;
  }

  /** CPU ticks of the postmaster, its ended children and its live children. */
  private long postgresTicks() {
    return CpuAccounting.postgresTicksOf(postgres.pid());
  }
}
