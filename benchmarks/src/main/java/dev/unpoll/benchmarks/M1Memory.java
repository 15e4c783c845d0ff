package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.BenchResults.Ratio;
import dev.unpoll.contract.RelayNames;
import dev.unpoll.relay.RelayMain;
import dev.unpoll.samples.orders.LegacySchema;
import dev.unpoll.samples.orders.migrated.RelayConfigs;
import dev.unpoll.testkit.ChildJvm;
import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * M1 of issue 13: what the relay costs in memory. The relay runs as its own process ({@link
 * RelayMain}, the samples' legacy configuration, {@code -Xmx} {@code m1.heap}, default {@value
 * #DEFAULT_HEAP}), so its resident set is its own; PostgreSQL and the Kafka broker run in this JVM.
 * See docs/benchmarks.md, section "M1: relay memory".
 *
 * <ol>
 *   <li><b>saturated rate</b>: after a first burst that warms the relay up, {@code m1.burst.rows}
 *       rows written as fast as one writer can (100 per transaction); the relay's rate is the rows
 *       over the time from the first write to Kafka's acknowledgement of the last;
 *   <li><b>steady</b>: a writer at half that rate for {@code m1.seconds};
 *   <li><b>transactions</b>: one transaction of {@code m1.small.tx} rows, then one of {@code
 *       m1.large.tx} rows (default 200,000), each drained before the next.
 * </ol>
 *
 * In every phase the relay's RSS ({@code VmRSS} of {@code /proc/<pid>/status}) is sampled every 100
 * ms, and its heap after each collection is read from its GC log ({@code -Xlog:gc}). Heap "flat"
 * means the heap after collection during the large transaction stays within {@value #FLAT} times
 * that during the small one: it does not grow with the transaction.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.M1Memory [--publish]
 * </pre>
 */
public final class M1Memory {
  static final String DEFAULT_HEAP = "256m";
  static final double RSS_GOAL_MB = 512;
  static final double FLAT = 1.25;
  private static final String TOPIC = "m1.events";
  private static final String SLOT = "m1_relay";
  private static final String INSERT_ROWS =
      "INSERT INTO shop.order_integration (order_id, event_type, payload)"
          + " SELECT g, 'OrderPlaced', jsonb_build_object('orderId', g, 'customer',"
          + " 'customer-' || g, 'amount', 10.50::numeric) FROM generate_series(?, ?) g";
  private static final Pattern GC_LINE =
      Pattern.compile("\\[([0-9.]+)s\\].*Pause(.*?)(\\d+)M->(\\d+)M\\((\\d+)M\\)");

  /** Settings of a run. */
  record Settings(
      String heap,
      int burstRows,
      double seconds,
      int smallTx,
      int largeTx,
      int hugeTx,
      double idleSeconds) {
    static Settings fromSystemProperties() {
      return new Settings(
          System.getProperty("m1.heap", DEFAULT_HEAP),
          Integer.getInteger("m1.burst.rows", 300_000),
          Double.parseDouble(System.getProperty("m1.seconds", "60")),
          Integer.getInteger("m1.small.tx", 50_000),
          Integer.getInteger("m1.large.tx", 200_000),
          Integer.getInteger("m1.huge.tx", 1_000_000),
          Double.parseDouble(System.getProperty("m1.idle.seconds", "30")));
    }
  }

  /** One phase's memory: peak and median RSS, and the largest heap after a collection. */
  record Phase(
      String name,
      long rows,
      double seconds,
      double rssMaxMb,
      double rssMedianMb,
      double heapAfterGcMaxMb,
      int collections,
      double liveMidMb) {
    double rate() {
      return rows / seconds;
    }
  }

  /** What a run measured. */
  record Result(
      Settings settings, double saturatedRate, double idleCpuPercent, List<Phase> phases) {
    Phase phase(String name) {
      return phases.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }
  }

  private final TestPostgres pg;
  private final TestKafka kafka;
  private final Path dir;
  private long written;
  private KafkaConsumer<byte[], byte[]> offsets;

  private M1Memory(TestPostgres pg, TestKafka kafka, Path dir) {
    this.pg = pg;
    this.kafka = kafka;
    this.dir = dir;
  }

  public static void main(String[] args) throws Exception {
    Settings s = Settings.fromSystemProperties();
    Result r = run(s, Files.createTempDirectory("m1-"));
    report(r, List.of(args).contains("--publish"));
  }

  static Result run(Settings s, Path dir) throws Exception {
    EmbeddedPostgresServer postgres =
        EmbeddedPostgresServer.builder()
            .setting("fsync", "on")
            .setting("full_page_writes", "on")
            .setting("synchronous_commit", "on")
            .start();
    try (postgres;
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().start()) {
      M1Memory m1 = new M1Memory(postgres.postgres(), broker.kafka(), dir);
      try {
        return m1.measure(s);
      } finally {
        if (m1.offsets != null) {
          m1.offsets.close();
        }
      }
    }
  }

  private Result measure(Settings s) throws Exception {
    LegacySchema.create(pg.dataSource());
    try (Connection c = pg.connect();
        Statement st = c.createStatement()) {
      st.execute(RelayNames.heartbeatTableDdl());
      st.execute(
          "CREATE PUBLICATION "
              + SLOT
              + " FOR TABLE shop.order_integration, "
              + RelayNames.HEARTBEAT_TABLE.quoted());
    }
    kafka.createTopic(TOPIC, 1);
    Path config = dir.resolve("relay.yaml");
    Files.writeString(config, relayYaml());
    Path gcLog = dir.resolve("relay-gc.log");
    List<Phase> phases = new ArrayList<>();
    double saturated;
    double idleCpu;
    try (ChildJvm relay =
        ChildJvm.start(
            "relay",
            RelayMain.class,
            List.of("-Xmx" + s.heap(), "-Xlog:gc:file=" + gcLog),
            List.of("--config", config.toString()),
            Map.of(
                "ORDERS_DB_URL", pg.jdbcUrl(),
                "ORDERS_DB_USER", pg.user(),
                "ORDERS_DB_PASSWORD", pg.password(),
                "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers()),
            dir.resolve("relay.log"))) {
      String offsets = RelayNames.offsetsTable(SLOT);
      try (Connection c = pg.connect()) {
        await(
            () -> {
              if (!relay.isAlive()) {
                throw new IllegalStateException(
                    "the relay exited with " + relay.exitCode() + "; see " + dir);
              }
              return rowsIn(c, offsets) > 0;
            },
            Duration.ofMinutes(2),
            "the relay storing its first offset");
      }
      // a first burst warms the relay's JIT up; it is shown, not reported
      phase("warm-up", relay, gcLog, () -> write(s.burstRows(), 100, 0));
      Phase burst = phase("saturated", relay, gcLog, () -> write(s.burstRows(), 100, 0));
      phases.add(burst);
      saturated = burst.rate();
      System.out.printf(Locale.ROOT, "saturated: %,.0f rows/s%n", saturated);
      double half = saturated / 2;
      phases.add(
          phase(
              "steady",
              relay,
              gcLog,
              () -> write((int) Math.round(half * s.seconds()), 100, half)));
      phases.add(phase("tx.small", relay, gcLog, () -> write(s.smallTx(), s.smallTx(), 0), true));
      phases.add(phase("tx.large", relay, gcLog, () -> write(s.largeTx(), s.largeTx(), 0), true));
      if (s.hugeTx() > 0) {
        phases.add(phase("tx.huge", relay, gcLog, () -> write(s.hugeTx(), s.hugeTx(), 0), true));
      }
      idleCpu = idleCpuPercent(relay, s.idleSeconds());
      System.out.printf(Locale.ROOT, "idle: %.2f%% of one core%n", idleCpu);
      if (!relay.isAlive()) {
        throw new IllegalStateException("the relay exited with " + relay.exitCode());
      }
    }
    return new Result(s, saturated, idleCpu, phases);
  }

  /** Writes, then waits until Kafka holds every row; RSS sampled all along. */
  private Phase phase(String name, ChildJvm relay, Path gcLog, Writer writer) throws Exception {
    return phase(name, relay, gcLog, writer, false);
  }

  /**
   * With {@code liveAtHalf}, once Kafka holds half of the phase's rows the relay is made to run a
   * full collection ({@code jcmd <pid> GC.run}); the heap after it is the relay's live set in the
   * middle of the phase.
   */
  private Phase phase(String name, ChildJvm relay, Path gcLog, Writer writer, boolean liveAtHalf)
      throws Exception {
    double gcFrom = lastGcSeconds(gcLog);
    long target0 = written;
    List<Double> rss = new ArrayList<>();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler =
        new Thread(
            () -> {
              while (sampling.get()) {
                double mb = rssMb(relay.pid());
                if (mb > 0) {
                  synchronized (rss) {
                    rss.add(mb);
                  }
                }
                LockSupport.parkNanos(100_000_000);
              }
            },
            "m1-rss");
    sampler.setDaemon(true);
    sampler.start();
    long t0 = System.nanoTime();
    writer.write();
    long target = written;
    long half = target0 + (target - target0) / 2;
    AtomicBoolean collected = new AtomicBoolean(!liveAtHalf);
    await(
        () -> {
          if (!relay.isAlive()) {
            throw new IllegalStateException("the relay exited with " + relay.exitCode());
          }
          long end = endOffset();
          if (!collected.get() && end >= half) {
            collected.set(true);
            if (end >= target) {
              throw new IllegalStateException(
                  name
                      + ": the relay drained the whole transaction before its middle was seen;"
                      + " use a larger one");
            }
            fullGc(relay.pid());
          }
          return end >= target;
        },
        Duration.ofMinutes(10),
        name + ": Kafka holding " + target + " events");
    double seconds = (System.nanoTime() - t0) / 1e9;
    sampling.set(false);
    sampler.join();
    long end = endOffset();
    if (end != target) {
      throw new IllegalStateException(name + ": topic holds " + end + " events, not " + target);
    }
    List<double[]> gcs = gcAfter(gcLog, gcFrom);
    double heapMax = gcs.stream().mapToDouble(g -> g[1]).max().orElse(Double.NaN);
    double live =
        liveAtHalf
            ? gcs.stream().filter(g -> g[2] > 0).mapToDouble(g -> g[1]).max().orElse(Double.NaN)
            : Double.NaN;
    Phase p;
    synchronized (rss) {
      p =
          new Phase(
              name,
              target - target0,
              seconds,
              Stats.max(rss),
              Stats.median(rss),
              heapMax,
              gcs.size(),
              live);
    }
    System.out.printf(
        Locale.ROOT,
        "%-9s %,9d rows in %6.1f s (%,.0f rows/s): RSS max %.0f MB (median %.0f), heap after GC max"
            + " %.0f MB over %d collections%n",
        p.name(),
        p.rows(),
        p.seconds(),
        p.rate(),
        p.rssMaxMb(),
        p.rssMedianMb(),
        p.heapAfterGcMaxMb(),
        p.collections());
    return p;
  }

  @FunctionalInterface
  private interface Writer {
    void write() throws Exception;
  }

  /**
   * Writes {@code rows} rows, {@code txRows} per transaction, at {@code rate} rows/s (0: as fast as
   * one connection can).
   */
  private void write(int rows, int txRows, double rate) throws SQLException {
    try (Connection c = pg.connect();
        PreparedStatement ps = c.prepareStatement(INSERT_ROWS)) {
      long t0 = System.nanoTime();
      for (int done = 0; done < rows; done += txRows) {
        int n = Math.min(txRows, rows - done);
        if (rate > 0) {
          long due = t0 + (long) (done / rate * 1e9);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait);
          }
        }
        ps.setLong(1, written + 1);
        ps.setLong(2, written + n);
        ps.executeUpdate();
        written += n;
      }
    }
  }

  private String relayYaml() throws IOException {
    String text = RelayYaml.legacy();
    text = text.replace("slot: unpoll_shop_integration", "slot: " + SLOT);
    text = text.replace("publication: unpoll_shop_integration", "publication: " + SLOT);
    text = text.replace("topic: " + RelayConfigs.LEGACY_TOPIC, "topic: " + TOPIC);
    text = text.replace("backlog: true", "backlog: false");
    if (!text.contains("slot: " + SLOT) || !text.contains("topic: " + TOPIC)) {
      throw new IllegalStateException(RelayConfigs.LEGACY + " changed: cannot set slot and topic");
    }
    return text;
  }

  /** The topic's end offset, read with one consumer for the whole run (cheap to poll often). */
  private long endOffset() {
    TopicPartition tp = new TopicPartition(TOPIC, 0);
    if (offsets == null) {
      offsets = new KafkaConsumer<>(kafka.consumerConfig("m1-end-offsets"));
    }
    return offsets.endOffsets(List.of(tp)).get(tp);
  }

  /**
   * The relay's CPU while nothing is written, in percent of one core: its process's scheduler time
   * over {@code seconds}, after its last heartbeat of the busy phases is long done.
   */
  private static double idleCpuPercent(ChildJvm relay, double seconds) throws IOException {
    long t0 = System.nanoTime();
    Path proc = Path.of("/proc", Long.toString(relay.pid()));
    long nanos0 = CpuAccounting.cpuNanos(proc);
    Map<String, Long> threads0 = threadNanos(proc);
    LockSupport.parkNanos((long) (seconds * 1e9));
    long nanos1 = CpuAccounting.cpuNanos(proc);
    Map<String, Long> threads1 = threadNanos(proc);
    double wall = (System.nanoTime() - t0) / 1e9;
    // where an idle relay spends it: its busiest threads (names as the kernel keeps them)
    List<Map.Entry<String, Long>> busiest = new ArrayList<>();
    threads1.forEach((k, v) -> busiest.add(Map.entry(k, v - threads0.getOrDefault(k, 0L))));
    busiest.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
    StringBuilder b = new StringBuilder("idle relay, busiest threads (% of one core):");
    for (Map.Entry<String, Long> e : busiest.subList(0, Math.min(6, busiest.size()))) {
      b.append(String.format(Locale.ROOT, " %s %.1f;", e.getKey(), e.getValue() / 1e7 / wall));
    }
    System.out.println(b);
    if (nanos0 < 0 || nanos1 < 0) {
      throw new IllegalStateException("the relay process ended during the idle phase");
    }
    return (nanos1 - nanos0) / 1e9 / wall * 100;
  }

  /** CPU nanoseconds per thread of a process, keyed by "name/tid" (Linux). */
  private static Map<String, Long> threadNanos(Path proc) {
    Map<String, Long> out = new java.util.HashMap<>();
    java.io.File[] tasks = proc.resolve("task").toFile().listFiles();
    if (tasks == null) {
      return out;
    }
    for (java.io.File t : tasks) {
      try {
        String name = Files.readString(t.toPath().resolve("comm")).trim();
        long spent = CpuAccounting.cpuNanos(t.toPath());
        if (spent >= 0) {
          out.put(name + "/" + t.getName(), spent);
        }
      } catch (IOException | RuntimeException e) {
        // ended meanwhile
      }
    }
    return out;
  }

  /** Runs a full collection in the process ({@code jcmd <pid> GC.run}) and waits for it. */
  private static void fullGc(long pid) {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    try {
      Process p =
          new ProcessBuilder(jcmd, Long.toString(pid), "GC.run")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("jcmd " + pid + " GC.run did not succeed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + jcmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** VmRSS of a process in MB, or -1 once it is gone. */
  static double rssMb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone, or not Linux
    }
    return -1;
  }

  /** The uptime of the last collection in the GC log, 0 if none yet. */
  private static double lastGcSeconds(Path gcLog) throws IOException {
    List<double[]> all = gcAfter(gcLog, -1);
    return all.isEmpty() ? 0 : all.get(all.size() - 1)[0];
  }

  /**
   * [uptime s, heap after MB, 1 if a requested full collection] of each collection after {@code
   * fromSeconds}.
   */
  static List<double[]> gcAfter(Path gcLog, double fromSeconds) throws IOException {
    List<double[]> out = new ArrayList<>();
    if (!Files.exists(gcLog)) {
      return out;
    }
    for (String line : Files.readAllLines(gcLog)) {
      Matcher m = GC_LINE.matcher(line);
      if (m.find()) {
        double at = Double.parseDouble(m.group(1));
        if (at > fromSeconds) {
          boolean requested =
              m.group(2).contains("Diagnostic Command") || m.group(2).contains("System.gc()");
          out.add(new double[] {at, Double.parseDouble(m.group(4)), requested ? 1 : 0});
        }
      }
    }
    return out;
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

  private static void await(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      LockSupport.parkNanos(20_000_000);
    }
  }

  static List<Measure> measures(Result r) {
    Phase steady = r.phase("steady");
    Phase large = r.phase("tx.large");
    Phase small = r.phase("tx.small");
    Phase largest =
        r.phases().stream().filter(p -> p.name().equals("tx.huge")).findFirst().orElse(large);
    double rssMax = Math.max(Math.max(steady.rssMaxMb(), large.rssMaxMb()), largest.rssMaxMb());
    double flat = largest.liveMidMb() / small.liveMidMb();
    double peaks = large.heapAfterGcMaxMb() / small.heapAfterGcMaxMb();
    List<Measure> out = new ArrayList<>();
    out.add(
        new Measure(
            "M1",
            rssMax,
            RSS_GOAL_MB,
            new Ratio(rssMax / RSS_GOAL_MB, rssMax / RSS_GOAL_MB, rssMax / RSS_GOAL_MB),
            "relay RSS peak (steady at half its saturated rate, and the large transaction) ÷ 512"
                + " MB; -Xmx"
                + r.settings().heap(),
            "≤ 1.0 (RSS ≤ 512 MB)",
            rssMax <= RSS_GOAL_MB,
            "MB"));
    out.add(
        new Measure(
            "M1.rss.steady",
            steady.rssMaxMb(),
            null,
            null,
            "peak RSS at " + Math.round(steady.rate()) + " rows/s (half the saturated rate)",
            null,
            null,
            "MB"));
    out.add(
        new Measure(
            "M1.heap.flat",
            largest.liveMidMb(),
            small.liveMidMb(),
            new Ratio(flat, flat, flat),
            "live heap (after a full GC) halfway through a "
                + largest.rows()
                + "-row transaction ÷ halfway through a "
                + small.rows()
                + "-row one",
            "≤ " + FLAT + " (flat)",
            flat <= FLAT,
            "MB"));
    out.add(
        new Measure(
            "M1.heap.peak_after_gc",
            large.heapAfterGcMaxMb(),
            small.heapAfterGcMaxMb(),
            new Ratio(peaks, peaks, peaks),
            "highest heap after a young GC: "
                + large.rows()
                + "-row transaction ÷ "
                + small.rows()
                + "-row one (floating garbage included; shown, not judged)",
            null,
            null,
            "MB"));
    out.add(
        new Measure(
            "M1.idle_cpu",
            r.idleCpuPercent(),
            null,
            null,
            "the relay process's CPU with nothing to publish (heartbeats only), % of one core",
            null,
            null,
            "%"));
    out.add(
        new Measure(
            "M1.saturated",
            r.saturatedRate(),
            null,
            null,
            "the relay process's drain rate of a burst, the rate the steady phase halves",
            null,
            null,
            "rows/s"));
    return out;
  }

  static void report(Result r, boolean publish) throws IOException {
    System.out.println();
    System.out.println(
        "| phase | rows | rows/s | RSS max MB | RSS median MB | heap after GC max MB |"
            + " collections | live heap halfway MB |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (Phase p : r.phases()) {
      System.out.printf(
          Locale.ROOT,
          "| %s | %d | %.0f | %.0f | %.0f | %.0f | %d | %.0f |%n",
          p.name(),
          p.rows(),
          p.rate(),
          p.rssMaxMb(),
          p.rssMedianMb(),
          p.heapAfterGcMaxMb(),
          p.collections(),
          p.liveMidMb());
    }
    List<Measure> measures = measures(r);
    for (Measure m : measures) {
      System.out.printf(
          Locale.ROOT,
          "%s: %.1f %s%s%n",
          m.id(),
          m.value(),
          m.unit(),
          m.met() == null ? "" : " (goal " + m.goal() + ": " + (m.met() ? "met" : "not met") + ")");
    }
    if (publish) {
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("heap", r.settings().heap());
      settings.put("burst_rows", r.settings().burstRows());
      settings.put("steady_seconds", r.settings().seconds());
      settings.put("small_tx_rows", r.settings().smallTx());
      settings.put("large_tx_rows", r.settings().largeTx());
      settings.put("huge_tx_rows", r.settings().hugeTx());
      settings.put("idle_seconds", r.settings().idleSeconds());
      BenchResults.merge(
          Path.of(System.getProperty("results", BenchResults.DEFAULT_FILE.toString())),
          "M1",
          settings,
          measures);
    }
  }
}
