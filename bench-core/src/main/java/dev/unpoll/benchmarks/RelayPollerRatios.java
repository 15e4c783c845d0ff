package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.BenchResults.Ratio;
import dev.unpoll.benchmarks.RelayPollerBench.Phase;
import dev.unpoll.benchmarks.RelayPollerBench.Variant;
import dev.unpoll.migration.Servers;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Issue 13's measures L1 (commit → handler latency) and D1 (database cost), the event path against
 * the legacy poller in the same run, and the latency plot. See docs/benchmarks.md, section "L1 and
 * D1: events instead of polling".
 *
 * <p>L1: per round and per write rate (default 100 and 1,000 rows/s), three arms in a rotated order
 * on the same PostgreSQL, broker and writer: the samples' {@code ShippingPoller} every 1 s, the
 * same every 100 ms, and the event path (relay → Kafka → the samples' claiming consumer). D1: per
 * round, the idle cost of ten pollers on ten empty tables against one relay capturing them
 * (heartbeats only), then at 200 rows/s the poller against the retired event path (no claim, no
 * status update) and against the dual phase (both on).
 *
 * <pre>
 * java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.RelayPollerRatios [--publish]
 * </pre>
 *
 * {@code --publish} merges the {@code L1.*} and {@code D1.*} measures into {@code
 * docs/benchmarks/results.json} (property {@code results}) and writes the plot to {@code
 * docs/benchmarks/latency.png} (property {@code plot}).
 */
public final class RelayPollerRatios {
  /** Where the tables go: standard output, or {@code unpoll bench}'s output while it runs. */
  private static volatile java.io.PrintWriter OUT =
      new java.io.PrintWriter(
          new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8),
          true);

  static final String HARNESS = "L1D1";

  /** What one run does; every figure can be set as a system property of the same name. */
  record Settings(
      int rounds,
      List<Double> rates,
      double l1Seconds,
      Duration slowPoll,
      Duration fastPoll,
      double warmupSeconds,
      double d1Rate,
      double d1Seconds,
      int idleTables,
      double idleSeconds,
      Duration idleHeartbeat,
      Duration pause,
      boolean l1,
      boolean d1) {

    static Settings fromProperties() {
      List<Double> rates = new ArrayList<>();
      for (String r : System.getProperty("rates", "100,1000").split(",")) {
        rates.add(Double.parseDouble(r.trim()));
      }
      return new Settings(
          Integer.getInteger("rounds", 3),
          rates,
          dbl("l1.seconds", 10),
          Duration.ofMillis(Long.getLong("poll.slow.ms", 1000)),
          Duration.ofMillis(Long.getLong("poll.fast.ms", 100)),
          dbl("warmup.seconds", 5),
          dbl("d1.rate", 200),
          dbl("d1.seconds", 10),
          Integer.getInteger("idle.tables", 10),
          dbl("idle.seconds", 30),
          Duration.ofMillis(Long.getLong("idle.heartbeat.ms", 10_000)),
          Duration.ofMillis(Long.getLong("pause.ms", 2000)),
          Boolean.parseBoolean(System.getProperty("l1", "true")),
          Boolean.parseBoolean(System.getProperty("d1", "true")));
    }

    private static double dbl(String name, double def) {
      return Double.parseDouble(System.getProperty(name, Double.toString(def)));
    }

    /** The window's tail after the last write: the slow poller's interval + 1 s, every arm. */
    Duration settle() {
      return slowPoll.plusSeconds(1);
    }

    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("rounds", rounds);
      m.put("rates", rates);
      m.put("l1_seconds", l1Seconds);
      m.put("poll_slow_ms", slowPoll.toMillis());
      m.put("poll_fast_ms", fastPoll.toMillis());
      m.put("warmup_seconds", warmupSeconds);
      m.put("settle_ms", settle().toMillis());
      m.put("d1_rate", d1Rate);
      m.put("d1_seconds", d1Seconds);
      m.put("idle_tables", idleTables);
      m.put("idle_seconds", idleSeconds);
      m.put("idle_heartbeat_ms", idleHeartbeat.toMillis());
      m.put("pause_ms", pause.toMillis());
      return m;
    }
  }

  /** The arms of L1. */
  enum L1Arm {
    POLLER_SLOW,
    POLLER_FAST,
    RELAY
  }

  /**
   * Everything measured: L1 per rate (its id label, e.g. {@code 100rps}) per round per arm; D1's
   * idle rounds ({@code POLLER}: the pollers, {@code RELAY}: the relay, {@code WRITER_ONLY}: the
   * server alone) and its rounds at the D1 rate ({@code POLLER}, {@code RETIRED}, {@code DUAL}).
   */
  record Result(
      Map<String, List<Map<L1Arm, Phase>>> l1,
      List<Map<Variant, Phase>> idle,
      List<Map<Variant, Phase>> load,
      double seconds) {}

  private RelayPollerRatios() {}

  public static void main(String[] args) throws Exception {
    boolean publish = List.of(args).contains("--publish");
    Settings settings = Settings.fromProperties();
    Result result = run(settings);
    List<Measure> measures = report(settings, result);
    if (publish) {
      Path file = Path.of(System.getProperty("results", BenchResults.DEFAULT_FILE.toString()));
      Path plot =
          Path.of(
              System.getProperty("plot", Path.of("docs", "benchmarks", "latency.png").toString()));
      publish(settings, result, measures, file, plot);
      OUT.println("published to " + file.toAbsolutePath() + " and " + plot.toAbsolutePath());
    }
  }

  /**
   * What {@code unpoll bench} runs: L1 (and D1 with {@code withD1}) on the embedded servers with
   * the defaults of the full run but {@code rounds}, {@code rates} and {@code seconds} of writing
   * per arm, printing the same tables, then writes {@code results.json} and {@code latency.png}
   * into {@code outDir}.
   */
  public static void bench(
      int rounds,
      List<Double> rates,
      double seconds,
      boolean withD1,
      Path outDir,
      java.io.PrintWriter printTo)
      throws Exception {
    java.io.PrintWriter before = OUT;
    OUT = printTo;
    try {
      bench(rounds, rates, seconds, withD1, outDir);
    } finally {
      OUT = before;
    }
  }

  private static void bench(
      int rounds, List<Double> rates, double seconds, boolean withD1, Path outDir)
      throws Exception {
    Settings s = benchSettings(rounds, rates, seconds, withD1);
    Result result = run(s);
    List<Measure> measures = report(s, result);
    java.nio.file.Files.createDirectories(outDir);
    publish(
        s,
        result,
        measures,
        outDir.resolve("results.json"),
        outDir.resolve("latency.png"),
        Map.of("servers", "embedded"));
  }

  /**
   * What {@code unpoll bench --db ... --kafka ...} runs: L1 as {@link #bench(int, List, double,
   * boolean, Path, java.io.PrintWriter)} does, on the user's own servers ({@code target}), without
   * D1; everything it creates there is removed at the end, also when it fails or the JVM is
   * interrupted. Returns what could not be removed (each with the statement that removes it), empty
   * when nothing is left.
   *
   * @throws BenchPreflightException when it cannot run there; nothing was created
   */
  public static List<String> benchOn(
      Servers target,
      int rounds,
      List<Double> rates,
      double seconds,
      Path outDir,
      java.io.PrintWriter printTo)
      throws Exception {
    java.io.PrintWriter before = OUT;
    OUT = printTo;
    try {
      Settings s = benchSettings(rounds, rates, seconds, false);
      RelayPollerBench bench = RelayPollerBench.startOn(target, s.slowPoll());
      List<String> left = List.of();
      Thread hook =
          new Thread(
              () -> {
                // interrupted (SIGINT, SIGTERM): remove what the run created before the JVM ends
                List<String> notRemoved = bench.closeAndClean();
                if (!notRemoved.isEmpty()) {
                  System.err.println(
                      "unpoll bench: interrupted; could not remove: "
                          + String.join(" ", notRemoved));
                }
              },
              "unpoll-bench-cleanup");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        String version = bench.setting("server_version");
        RelayPollerBench.ClockOffset clock = bench.clockOffset();
        OUT.printf(
            Locale.ROOT,
            "on %s (PostgreSQL %s); run %s: schemas shop and shipping, slot and publication %s,"
                + " topic and consumer group %s, all removed at the end%n"
                + "latency is commit (this JVM's clock) → handled (the database's clock, %+.1f ms"
                + " from this JVM's, ± %.1f ms, taken out); it includes the network to your"
                + " servers. D1 (database cost) is not measured here.%n",
            target.where(),
            version,
            bench.names().id(),
            bench.names().slot(),
            bench.names().topic(),
            clock.offsetMicros() / 1000.0,
            clock.uncertaintyMicros() / 1000.0);
        Result result = run(s, bench);
        List<Measure> measures = report(s, result);
        java.nio.file.Files.createDirectories(outDir);
        Map<String, Object> where = new LinkedHashMap<>();
        where.put("servers", "external");
        where.put("database", target.database());
        where.put("server_version", version);
        where.put("kafka", target.kafkaBootstrap());
        where.put("clock_offset_ms", clock.offsetMicros() / 1000.0);
        publish(
            s,
            result,
            measures,
            outDir.resolve("results.json"),
            outDir.resolve("latency.png"),
            where);
      } finally {
        left = bench.closeAndClean();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // the JVM is shutting down: the hook ran the cleanup already
        }
        if (!left.isEmpty()) {
          OUT.println("could not remove: " + String.join(" ", left));
        }
        OUT.flush();
      }
      return left;
    } finally {
      OUT = before;
    }
  }

  private static Settings benchSettings(
      int rounds, List<Double> rates, double seconds, boolean withD1) {
    Settings d = Settings.fromProperties();
    return new Settings(
        rounds,
        List.copyOf(rates),
        seconds,
        d.slowPoll(),
        d.fastPoll(),
        d.warmupSeconds(),
        d.d1Rate(),
        seconds,
        d.idleTables(),
        d.idleSeconds(),
        d.idleHeartbeat(),
        d.pause(),
        true,
        withD1);
  }

  /** Runs L1 and D1 as {@code s} says, printing each phase as it ends. */
  static Result run(Settings s) throws Exception {
    try (RelayPollerBench bench = RelayPollerBench.start(s.slowPoll())) {
      return run(s, bench);
    }
  }

  /** As {@link #run(Settings)}, on servers already started. */
  static Result run(Settings s, RelayPollerBench bench) throws Exception {
    if (s.rounds() < 1 || s.rates().isEmpty() || s.l1Seconds() <= 0 || s.d1Seconds() <= 0) {
      throw new IllegalArgumentException(s.toString());
    }
    long started = System.nanoTime();
    Map<String, List<Map<L1Arm, Phase>>> l1 = new LinkedHashMap<>();
    List<Map<Variant, Phase>> idle = new ArrayList<>();
    List<Map<Variant, Phase>> load = new ArrayList<>();
    OUT.printf(
        Locale.ROOT,
        "JDK %s, %d CPUs, PostgreSQL %s (fsync=%s, synchronous_commit=%s); %s%n",
        System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(),
        bench.setting("server_version"),
        bench.setting("fsync"),
        bench.setting("synchronous_commit"),
        s);
    if (s.warmupSeconds() > 0) {
      // JIT: the relay and the consumer's code compiled before the first measured phase
      double top = s.rates().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
      Phase w =
          bench.run(Variant.RELAY, s.fastPoll(), top, s.warmupSeconds(), s.settle(), s.pause());
      print("warm-up", "RELAY", w);
      w = bench.run(Variant.POLLER, s.fastPoll(), top, s.warmupSeconds(), s.settle(), s.pause());
      print("warm-up", "POLLER", w);
    }
    for (int k = 0; k < s.rounds(); k++) {
      String label = "r" + (k + 1);
      if (s.l1()) {
        for (int ri = 0; ri < s.rates().size(); ri++) {
          double rate = s.rates().get(ri);
          Map<L1Arm, Phase> round = new EnumMap<>(L1Arm.class);
          for (L1Arm arm : rotated(L1Arm.values(), k + ri)) {
            Phase p =
                switch (arm) {
                  case POLLER_SLOW ->
                      bench.run(
                          Variant.POLLER, s.slowPoll(), rate, s.l1Seconds(), s.settle(), s.pause());
                  case POLLER_FAST ->
                      bench.run(
                          Variant.POLLER, s.fastPoll(), rate, s.l1Seconds(), s.settle(), s.pause());
                  case RELAY ->
                      bench.run(
                          Variant.RELAY, s.fastPoll(), rate, s.l1Seconds(), s.settle(), s.pause());
                };
            round.put(arm, p);
            print(label + " L1 " + rateId(rate), armId(s, arm), p);
          }
          l1.computeIfAbsent(rateId(rate), r -> new ArrayList<>()).add(round);
        }
      }
      if (s.d1()) {
        Map<Variant, Phase> idleRound = new EnumMap<>(Variant.class);
        for (Variant v :
            rotated(new Variant[] {Variant.POLLER, Variant.RELAY, Variant.WRITER_ONLY}, k)) {
          Phase p =
              bench.idle(
                  v, s.idleTables(), s.slowPoll(), s.idleHeartbeat(), s.idleSeconds(), s.pause());
          idleRound.put(v, p);
          print(label + " D1 idle", idleArm(s, v), p);
        }
        idle.add(idleRound);
        Map<Variant, Phase> loadRound = new EnumMap<>(Variant.class);
        for (Variant v :
            rotated(
                new Variant[] {Variant.POLLER, Variant.RETIRED, Variant.DUAL, Variant.WRITER_ONLY},
                k)) {
          Phase p = bench.run(v, s.slowPoll(), s.d1Rate(), s.d1Seconds(), s.settle(), s.pause());
          loadRound.put(v, p);
          print(
              label + " D1 " + rateId(s.d1Rate()),
              v == Variant.WRITER_ONLY ? "WRITER_ALONE" : v.name(),
              p);
        }
        load.add(loadRound);
      }
    }
    return new Result(l1, idle, load, (System.nanoTime() - started) / 1e9);
  }

  private static String idleArm(Settings s, Variant v) {
    return switch (v) {
      case RELAY -> "relay";
      case POLLER -> s.idleTables() + " pollers";
      default -> "server alone";
    };
  }

  private static <T> List<T> rotated(T[] values, int by) {
    List<T> order = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      order.add(values[(i + by) % values.length]);
    }
    return order;
  }

  private static String rows(String rateId) {
    return rateId.replace("rps", " rows/s");
  }

  static String rateId(double rate) {
    return Math.round(rate) + "rps";
  }

  /** {@code poller_1s}, {@code poller_100ms}, {@code relay}: the arm's part of a measure id. */
  static String armId(Settings s, L1Arm arm) {
    return switch (arm) {
      case POLLER_SLOW -> "poller_" + interval(s.slowPoll());
      case POLLER_FAST -> "poller_" + interval(s.fastPoll());
      case RELAY -> "relay";
    };
  }

  private static String interval(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  private static void print(String label, String arm, Phase p) {
    if (p.statements() < 0) { // on the user's servers: the database's figures are not measured
      OUT.printf(
          Locale.ROOT,
          "  %-16s %-14s %5d rows at %6.1f/s, p50 %7.1f ms, p99 %7.1f ms, max %7.1f ms,"
              + " dead tuples %d, relay commit → Kafka ack mean %.1f ms, JVM CPU %.1f s%n",
          label,
          arm,
          p.rows(),
          p.rowsPerSecond(),
          p.latencyMillis(50),
          p.latencyMillis(99),
          p.latencyMillis(100),
          p.deadTuples(),
          p.relayAckMeanMillis(),
          p.jvmCpuSeconds());
      return;
    }
    OUT.printf(
        Locale.ROOT,
        "  %-16s %-14s %5d rows at %6.1f/s, p50 %7.1f ms, p99 %7.1f ms, max %7.1f ms, DB CPU %.2f s"
            + " (walsender %.2f), statements %d, BEGINs %d, WAL %.2f MB, dead tuples %d,"
            + " autovacuum %d, relay commit → Kafka ack mean %.1f ms, JVM CPU %.1f s, others %.2f"
            + " cores%n",
        label,
        arm,
        p.rows(),
        p.rowsPerSecond(),
        p.latencyMillis(50),
        p.latencyMillis(99),
        p.latencyMillis(100),
        p.dbCpuSeconds(),
        p.walsenderCpuSeconds(),
        p.statements(),
        p.transactions(),
        p.walBytes() / 1e6,
        p.deadTuples(),
        p.autovacuumRuns(),
        p.relayAckMeanMillis(),
        p.jvmCpuSeconds(),
        p.othersCores());
  }

  /** Prints the summary tables and returns the measures. */
  static List<Measure> report(Settings s, Result r) {
    List<Measure> measures = measures(s, r);
    OUT.printf("%n| measure | value | baseline | ratio median | min | max | goal | met |%n");
    OUT.println("|---|---|---|---|---|---|---|---|");
    for (Measure m : measures) {
      OUT.printf(
          Locale.ROOT,
          "| `%s` | %.3f %s | %s | %s | %s | %s | %s | %s |%n",
          m.id(),
          m.value(),
          m.unit(),
          m.baseline() == null ? "" : String.format(Locale.ROOT, "%.3f", m.baseline()),
          m.ratio() == null ? "" : String.format(Locale.ROOT, "%.3f", m.ratio().median()),
          m.ratio() == null ? "" : String.format(Locale.ROOT, "%.3f", m.ratio().min()),
          m.ratio() == null ? "" : String.format(Locale.ROOT, "%.3f", m.ratio().max()),
          m.goal() == null ? "" : m.goal(),
          m.met() == null ? "" : m.met());
    }
    OUT.printf(Locale.ROOT, "%ntotal time %.0f s%n", r.seconds());
    return measures;
  }

  /** The L1 and D1 measures of a run, with the goals of issue 13. */
  static List<Measure> measures(Settings s, Result r) {
    List<Measure> out = new ArrayList<>();
    List<Measure> p99Goals = new ArrayList<>();
    for (Map.Entry<String, List<Map<L1Arm, Phase>>> e : r.l1().entrySet()) {
      String rate = e.getKey();
      List<Map<L1Arm, Phase>> rounds = e.getValue();
      for (L1Arm poller : List.of(L1Arm.POLLER_SLOW, L1Arm.POLLER_FAST)) {
        double limit = poller == L1Arm.POLLER_SLOW ? 0.03 : 0.3;
        String arm = armId(s, poller);
        Measure p99 =
            ratio(
                "L1.p99." + arm + "." + rate,
                rounds,
                L1Arm.RELAY,
                poller,
                p -> p.latencyMillis(99),
                "ms",
                "relay path p99 ÷ " + arm + " p99, commit → handled at " + rows(rate),
                limit);
        out.add(p99);
        p99Goals.add(p99);
        out.add(
            ratio(
                "L1.p50." + arm + "." + rate,
                rounds,
                L1Arm.RELAY,
                poller,
                p -> p.latencyMillis(50),
                "ms",
                "relay path p50 ÷ " + arm + " p50, commit → handled at " + rows(rate),
                Double.NaN));
      }
    }
    if (!p99Goals.isEmpty()) {
      out.add(0, worst("L1", p99Goals));
    }

    List<Measure> d1 = new ArrayList<>();
    List<Measure> d1Goals = new ArrayList<>();
    if (!r.idle().isEmpty()) {
      String pollers = s.idleTables() + " pollers every " + interval(s.slowPoll());
      Measure idle =
          ratio(
              "D1.idle",
              r.idle(),
              Variant.RELAY,
              Variant.POLLER,
              p -> p.dbCpuSeconds() / (p.writeSeconds() / 60),
              "DB CPU s per minute",
              "one relay capturing " + s.idleTables() + " idle tables ÷ " + pollers,
              0.05);
      d1.add(idle);
      d1Goals.add(idle);
      d1.add(
          ratio(
              "D1.idle.statements",
              r.idle(),
              Variant.RELAY,
              Variant.POLLER,
              p -> p.statements() / (p.writeSeconds() / 60),
              "statements per minute",
              "relay ÷ " + pollers + ", idle",
              Double.NaN));
      d1.add(
          ratio(
              "D1.idle.wal",
              r.idle(),
              Variant.RELAY,
              Variant.POLLER,
              p -> p.walBytes() / (p.writeSeconds() / 60),
              "WAL bytes per minute",
              "relay ÷ " + pollers + ", idle",
              Double.NaN));
      d1.add(
          ratio(
              "D1.idle.server",
              r.idle(),
              Variant.WRITER_ONLY,
              Variant.POLLER,
              p -> p.dbCpuSeconds() / (p.writeSeconds() / 60),
              "DB CPU s per minute",
              "the server alone (no poller, no relay) ÷ "
                  + pollers
                  + ": the part of either arm's idle cost that is neither's",
              Double.NaN));
      d1.add(
          net(
              "D1.idle.net",
              r.idle(),
              Variant.RELAY,
              p -> p.dbCpuSeconds() / (p.writeSeconds() / 60),
              "the relay's idle DB CPU above the server's alone ÷ that of " + pollers,
              "DB CPU s per minute above the server alone"));
    }
    if (!r.load().isEmpty()) {
      String at = " at " + rows(rateId(s.d1Rate()));
      for (Variant v : List.of(Variant.RETIRED, Variant.DUAL)) {
        String name = v == Variant.RETIRED ? "retired" : "dual";
        String what =
            (v == Variant.RETIRED
                    ? "retired phase (relay + consumer without claim)"
                    : "dual phase (poller + relay + claiming consumer)")
                + " ÷ poller every "
                + interval(s.slowPoll())
                + at;
        Measure cpu =
            ratio(
                "D1." + name,
                r.load(),
                v,
                Variant.POLLER,
                p -> p.dbCpuSeconds() * 1000 / p.rows(),
                "DB CPU ms per row",
                what,
                v == Variant.RETIRED ? 0.8 : Double.NaN);
        d1.add(cpu);
        Measure dead =
            ratio(
                "D1." + name + ".dead_tuples",
                r.load(),
                v,
                Variant.POLLER,
                p -> p.deadTuples(),
                "n_dead_tup of the integration table after the phase",
                what,
                v == Variant.RETIRED ? 0.1 : Double.NaN);
        d1.add(dead);
        if (v == Variant.RETIRED) {
          d1Goals.add(cpu);
          d1Goals.add(dead);
        }
        if (r.load().get(0).containsKey(Variant.WRITER_ONLY)) {
          d1.add(
              net(
                  "D1." + name + ".net",
                  r.load(),
                  v,
                  p -> p.dbCpuSeconds() * 1000 / p.rows(),
                  what
                      + ", each net of the writer alone (its inserts and commits, the same in"
                      + " every arm)",
                  "DB CPU ms per row above the writer alone"));
        }
        d1.add(
            ratio(
                "D1." + name + ".autovacuum",
                r.load(),
                v,
                Variant.POLLER,
                p -> p.autovacuumRuns(),
                "autovacuum runs on the integration table in the phase",
                what,
                Double.NaN));
        d1.add(
            ratio(
                "D1." + name + ".statements",
                r.load(),
                v,
                Variant.POLLER,
                p -> p.statements() / (double) p.rows(),
                "statements per row",
                what,
                Double.NaN));
        d1.add(
            ratio(
                "D1." + name + ".transactions",
                r.load(),
                v,
                Variant.POLLER,
                p -> p.transactions() / (double) p.rows(),
                "BEGINs per row",
                what,
                Double.NaN));
        d1.add(
            ratio(
                "D1." + name + ".wal",
                r.load(),
                v,
                Variant.POLLER,
                p -> p.walBytes() / (double) p.rows(),
                "WAL bytes per row",
                what,
                Double.NaN));
      }
    }
    if (!r.load().isEmpty() && r.load().get(0).containsKey(Variant.WRITER_ONLY)) {
      d1.add(
          ratio(
              "D1.writer",
              r.load(),
              Variant.WRITER_ONLY,
              Variant.POLLER,
              p -> p.dbCpuSeconds() * 1000 / p.rows(),
              "DB CPU ms per row",
              "the writer alone (nothing handles its rows) ÷ poller every "
                  + interval(s.slowPoll())
                  + " at "
                  + rows(rateId(s.d1Rate()))
                  + ": the part of every arm's cost that is the writer's",
              Double.NaN));
    }
    if (!d1Goals.isEmpty()) {
      out.add(worst("D1", d1Goals));
    }
    out.addAll(d1);
    return out;
  }

  /**
   * What arm {@code a} adds to the cost both arms share, against what the poller adds, per round:
   * (a − base) ÷ (poller − base), where base is {@link Variant#WRITER_ONLY}: the server alone at
   * idle ({@code D1.idle.net}: the checkpointer, WAL writer and autovacuum launcher run in both
   * arms and in neither's name, and at idle they are the same order as the relay's whole cost), the
   * writer alone under load ({@code D1.retired.net}, {@code D1.dual.net}: its inserts and commits
   * are the same in every arm). A negative difference of {@code a} (cheaper than the base, which is
   * noise) counts as 0; a round whose poller adds nothing has no ratio.
   */
  static Measure net(
      String id,
      List<Map<Variant, Phase>> rounds,
      Variant a,
      ToDoubleFunction<Phase> f,
      String ratioOf,
      String unit) {
    List<Double> values = new ArrayList<>();
    List<Double> polls = new ArrayList<>();
    List<Double> ratios = new ArrayList<>();
    for (Map<Variant, Phase> round : rounds) {
      double base = f.applyAsDouble(round.get(Variant.WRITER_ONLY));
      double value = Math.max(0, f.applyAsDouble(round.get(a)) - base);
      double poll = f.applyAsDouble(round.get(Variant.POLLER)) - base;
      values.add(value);
      polls.add(poll);
      ratios.add(poll > 0 ? value / poll : Double.NaN);
    }
    return new Measure(
        id, Stats.median(values), Stats.median(polls), Ratio.of(ratios), ratioOf, null, null, unit);
  }

  /**
   * A measure of arm {@code a} against arm {@code b}: value and baseline the medians over the
   * rounds, the ratio the median, min and max of the rounds' a ÷ b; {@code limit} NaN: no goal.
   */
  private static <K> Measure ratio(
      String id,
      List<Map<K, Phase>> rounds,
      K a,
      K b,
      ToDoubleFunction<Phase> f,
      String unit,
      String ratioOf,
      double limit) {
    List<Double> as = new ArrayList<>();
    List<Double> bs = new ArrayList<>();
    List<Double> ratios = new ArrayList<>();
    for (Map<K, Phase> round : rounds) {
      double x = f.applyAsDouble(round.get(a));
      double y = f.applyAsDouble(round.get(b));
      as.add(x);
      bs.add(y);
      ratios.add(x / y);
    }
    Ratio ratio = Ratio.of(ratios);
    boolean hasGoal = !Double.isNaN(limit);
    return new Measure(
        id,
        Stats.median(as),
        Stats.median(bs),
        ratio,
        ratioOf,
        hasGoal ? "≤ " + limit : null,
        hasGoal ? ratio.median() <= limit : null,
        unit);
  }

  /**
   * The summary entry of several goals: the sub-measure farthest from (or closest to missing) its
   * goal, under {@code id}; met only when every one is met.
   */
  static Measure worst(String id, List<Measure> goals) {
    Measure worst = null;
    double worstShare = Double.NEGATIVE_INFINITY;
    for (Measure m : goals) {
      double limit = Double.parseDouble(m.goal().substring(2));
      double share = m.ratio().median() / limit;
      if (Double.isNaN(share)) {
        share = Double.POSITIVE_INFINITY; // not measurable: the worst case
      }
      if (worst == null || share > worstShare) {
        worst = m;
        worstShare = share;
      }
    }
    boolean all = goals.stream().allMatch(m -> Boolean.TRUE.equals(m.met()));
    return new Measure(
        id,
        worst.value(),
        worst.baseline(),
        worst.ratio(),
        "the worst of " + goals.size() + " goals: " + worst.id() + " (" + worst.ratioOf() + ")",
        worst.goal(),
        all,
        worst.unit());
  }

  /** Merges the measures into {@code file} and writes the latency plot to {@code plot}. */
  static void publish(Settings s, Result r, List<Measure> measures, Path file, Path plot)
      throws IOException {
    publish(s, r, measures, file, plot, Map.of());
  }

  /**
   * As {@link #publish(Settings, Result, List, Path, Path)}, with {@code where} in the settings.
   */
  static void publish(
      Settings s, Result r, List<Measure> measures, Path file, Path plot, Map<String, Object> where)
      throws IOException {
    Map<String, Object> settings = new LinkedHashMap<>(where);
    settings.putAll(s.asMap());
    BenchResults.merge(file, HARNESS, settings, measures);
    writePlot(s, r, plot);
  }

  /** The L1 latency distributions of every measured round, one curve per arm and rate. */
  static void writePlot(Settings s, Result r, Path plot) throws IOException {
    List<LatencyPlot.Curve> curves = new ArrayList<>();
    int rate = 0;
    for (Map.Entry<String, List<Map<L1Arm, Phase>>> e : r.l1().entrySet()) {
      for (L1Arm arm : L1Arm.values()) {
        List<long[]> parts = new ArrayList<>();
        e.getValue().forEach(round -> parts.add(round.get(arm).latencyMicros()));
        String name = arm == L1Arm.RELAY ? "event path (relay + consumer)" : armId(s, arm);
        curves.add(
            new LatencyPlot.Curve(
                name + ", " + rows(e.getKey()), LatencyPlot.concat(parts), arm.ordinal(), rate));
      }
      rate++;
    }
    LatencyPlot.write(
        plot,
        String.format(
            Locale.ROOT,
            "L1: commit → handled, pollers vs event path (%d round%s × %.0f s per arm and rate)",
            s.rounds(),
            s.rounds() == 1 ? "" : "s",
            s.l1Seconds()),
        curves);
  }
}
