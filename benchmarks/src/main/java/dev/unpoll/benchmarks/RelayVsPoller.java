package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.RelayPollerBench.Phase;
import dev.unpoll.benchmarks.RelayPollerBench.Variant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * The relay against the poller it replaces, in the same run: commit → handled latency (p50, p99)
 * and what the database spends, while the samples' writer inserts legacy integration rows at a
 * fixed rate. See docs/benchmarks.md, section "The earlier harness: RelayVsPoller"; issue 13's L1
 * and D1 are measured by {@link RelayPollerRatios}.
 *
 * <p>Every round runs three phases on the same PostgreSQL and Kafka broker, in a rotated order:
 * {@code WRITER_ONLY} (the writer alone), {@code POLLER} (the samples' {@code ShippingPoller}) and
 * {@code RELAY} (the relay with the samples' configuration, then the samples' claiming {@code
 * ShippingConsumer}). A round's ratios compare the relay with the poller of the same round; the
 * report gives their median and spread over the rounds. Warm-up rounds are measured and checked but
 * not reported.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.RelayVsPoller
 * </pre>
 *
 * System properties: {@code rounds} (default {@value #DEFAULT_ROUNDS}), {@code warmup} (default
 * {@value #DEFAULT_WARMUP}), {@code rate}: rows per second (default {@value #DEFAULT_RATE}), {@code
 * seconds} of writing per phase (default {@value #DEFAULT_SECONDS}), {@code poll.interval.ms}: the
 * poller's interval (default {@value #DEFAULT_POLL_INTERVAL_MS}), {@code settle.ms}: how long the
 * measurement window goes on after the last write (default the poll interval + 1 s).
 */
public final class RelayVsPoller {
  static final int DEFAULT_ROUNDS = 5;
  static final int DEFAULT_WARMUP = 1;
  static final double DEFAULT_RATE = 200;
  static final double DEFAULT_SECONDS = 15;
  static final long DEFAULT_POLL_INTERVAL_MS = 1000;
  static final List<Variant> VARIANTS = List.of(Variant.WRITER_ONLY, Variant.POLLER, Variant.RELAY);

  private RelayVsPoller() {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("rounds", DEFAULT_ROUNDS);
    int warmup = Integer.getInteger("warmup", DEFAULT_WARMUP);
    double rate = Double.parseDouble(System.getProperty("rate", Double.toString(DEFAULT_RATE)));
    double seconds =
        Double.parseDouble(System.getProperty("seconds", Double.toString(DEFAULT_SECONDS)));
    Duration interval =
        Duration.ofMillis(Long.getLong("poll.interval.ms", DEFAULT_POLL_INTERVAL_MS));
    Duration settle = Duration.ofMillis(Long.getLong("settle.ms", interval.toMillis() + 1000));
    if (rounds < 1 || warmup < 0 || rate <= 0 || rate * seconds < 100) {
      throw new IllegalArgumentException(
          "rounds=" + rounds + ", warmup=" + warmup + ", rate=" + rate + ", seconds=" + seconds);
    }
    long started = System.nanoTime();
    List<String> latencyRows = new ArrayList<>();
    List<String> loadRows = new ArrayList<>();
    List<Map<Variant, Phase>> measured = new ArrayList<>();
    try (RelayPollerBench bench = RelayPollerBench.start(interval)) {
      System.out.printf(
          "JDK %s (%s), %d CPUs seen by the JVM, PostgreSQL %s (fsync=%s, full_page_writes=%s,"
              + " synchronous_commit=%s, wal_level=%s)%n",
          System.getProperty("java.version"),
          System.getProperty("java.vm.name"),
          Runtime.getRuntime().availableProcessors(),
          bench.setting("server_version"),
          bench.setting("fsync"),
          bench.setting("full_page_writes"),
          bench.setting("synchronous_commit"),
          bench.setting("wal_level"));
      System.out.printf(
          Locale.ROOT,
          "Kafka %s in this JVM; %d warm-up + %d rounds; %.0f rows/s for %.0f s per phase; poll interval %d"
              + " ms; window ends %d ms after the last write%n",
          AppInfoParser.getVersion(),
          warmup,
          rounds,
          rate,
          seconds,
          interval.toMillis(),
          settle.toMillis());
      for (int k = 0; k < warmup + rounds; k++) {
        boolean warm = k < warmup;
        String label = warm ? "w" + (k + 1) : "r" + (k - warmup + 1);
        Map<Variant, Phase> round = new EnumMap<>(Variant.class);
        List<Variant> order = new ArrayList<>();
        for (int i = 0; i < VARIANTS.size(); i++) {
          Variant v = VARIANTS.get((i + k) % VARIANTS.size());
          order.add(v);
          Phase p = bench.run(v, rate, seconds, settle);
          round.put(v, p);
          System.out.printf(
              Locale.ROOT,
              "  %s %-11s %5d rows at %.1f/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms,"
                  + " DB CPU %.2f s (walsender %.2f s), statements %d (transactions %d), WAL %.1f"
                  + " MB, relay commit→ack mean %.1f ms, JVM CPU %.2f s, others %.2f cores%n",
              label,
              v,
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
              p.relayAckMeanMillis(),
              p.jvmCpuSeconds(),
              p.othersCores());
        }
        String lat = latencyRow(label, round);
        String load = loadRow(label, order, round);
        System.out.println((warm ? "(warm-up) " : "") + lat);
        System.out.println((warm ? "(warm-up) " : "") + load);
        if (!warm) {
          measured.add(round);
          latencyRows.add(lat);
          loadRows.add(load);
        }
      }
    }
    System.out.printf("%nLatency per round (commit → handled, ms):%n%n");
    System.out.println(
        "| round | POLLER p50 | POLLER p99 | RELAY p50 | RELAY p99 | p50 RELAY ÷ POLLER |"
            + " p99 RELAY ÷ POLLER | RELAY mean | of which commit → Kafka ack (mean) |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    latencyRows.forEach(System.out::println);
    System.out.printf("%nDatabase load per round (CPU seconds of all PostgreSQL processes):%n%n");
    System.out.println(
        "| round | order | WRITER_ONLY | POLLER | RELAY (walsender) | RELAY ÷ POLLER |"
            + " (RELAY − W) ÷ (POLLER − W) | statements W / P / R | JVM CPU s W / P / R |"
            + " other processes (cores) |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");
    loadRows.forEach(System.out::println);

    System.out.printf("%nSummary (%d rounds):%n%n", rounds);
    System.out.println("| ratio RELAY ÷ POLLER | median | min | max |");
    System.out.println("|---|---|---|---|");
    summary(measured, "latency p50", p -> p.latencyMillis(50));
    summary(measured, "latency p99", p -> p.latencyMillis(99));
    summary(measured, "DB CPU", Phase::dbCpuSeconds);
    summaryExtra(measured);
    summary(measured, "statements", p -> p.statements());
    summary(measured, "transactions (BEGIN)", p -> p.transactions());
    summary(measured, "WAL bytes", p -> p.walBytes());
    System.out.printf("%n| variant | median p50 ms | median p99 ms | median DB CPU s |");
    System.out.println(
        " median statements | median transactions | median WAL MB | median JVM CPU s |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (Variant v : VARIANTS) {
      System.out.printf(
          Locale.ROOT,
          "| `%s` | %.1f | %.1f | %.2f | %.0f | %.0f | %.1f | %.2f |%n",
          v,
          median(measured, v, p -> p.latencyMillis(50)),
          median(measured, v, p -> p.latencyMillis(99)),
          median(measured, v, Phase::dbCpuSeconds),
          median(measured, v, p -> p.statements()),
          median(measured, v, p -> p.transactions()),
          median(measured, v, p -> p.walBytes() / 1e6),
          median(measured, v, Phase::jvmCpuSeconds));
    }
    System.out.printf("%ntotal time %.0f s%n", (System.nanoTime() - started) / 1e9);
  }

  private static String latencyRow(String label, Map<Variant, Phase> r) {
    Phase p = r.get(Variant.POLLER);
    Phase q = r.get(Variant.RELAY);
    return String.format(
        Locale.ROOT,
        "| %s | %.1f | %.1f | %.1f | %.1f | %.3f | %.3f | %.1f | %.1f |",
        label,
        p.latencyMillis(50),
        p.latencyMillis(99),
        q.latencyMillis(50),
        q.latencyMillis(99),
        q.latencyMillis(50) / p.latencyMillis(50),
        q.latencyMillis(99) / p.latencyMillis(99),
        q.meanLatencyMillis(),
        q.relayAckMeanMillis());
  }

  private static String loadRow(String label, List<Variant> order, Map<Variant, Phase> r) {
    Phase w = r.get(Variant.WRITER_ONLY);
    Phase p = r.get(Variant.POLLER);
    Phase q = r.get(Variant.RELAY);
    StringBuilder o = new StringBuilder();
    for (Variant v : order) {
      o.append(o.length() == 0 ? "" : " → ").append(v == Variant.WRITER_ONLY ? "W" : v.name());
    }
    double others =
        order.stream().mapToDouble(v -> r.get(v).othersCores()).max().orElse(Double.NaN);
    return String.format(
        Locale.ROOT,
        "| %s | %s | %.2f | %.2f | %.2f (%.2f) | %.3f | %.3f | %d / %d / %d | %.1f / %.1f / %.1f |"
            + " %.2f |",
        label,
        o,
        w.dbCpuSeconds(),
        p.dbCpuSeconds(),
        q.dbCpuSeconds(),
        q.walsenderCpuSeconds(),
        q.dbCpuSeconds() / p.dbCpuSeconds(),
        extraRatio(r),
        w.statements(),
        p.statements(),
        q.statements(),
        w.jvmCpuSeconds(),
        p.jvmCpuSeconds(),
        q.jvmCpuSeconds(),
        others);
  }

  private static double extraRatio(Map<Variant, Phase> r) {
    double w = r.get(Variant.WRITER_ONLY).dbCpuSeconds();
    return (r.get(Variant.RELAY).dbCpuSeconds() - w) / (r.get(Variant.POLLER).dbCpuSeconds() - w);
  }

  private static void summary(
      List<Map<Variant, Phase>> rounds, String what, ToDoubleFunction<Phase> f) {
    List<Double> ratios = new ArrayList<>();
    for (Map<Variant, Phase> r : rounds) {
      ratios.add(f.applyAsDouble(r.get(Variant.RELAY)) / f.applyAsDouble(r.get(Variant.POLLER)));
    }
    printRatios(what, ratios);
  }

  private static void summaryExtra(List<Map<Variant, Phase>> rounds) {
    List<Double> ratios = new ArrayList<>();
    for (Map<Variant, Phase> r : rounds) {
      ratios.add(extraRatio(r));
    }
    printRatios("DB CPU above WRITER_ONLY", ratios);
  }

  private static void printRatios(String what, List<Double> ratios) {
    System.out.printf(
        Locale.ROOT,
        "| %s | %.3f | %.3f | %.3f |%n",
        what,
        Stats.median(ratios),
        Stats.min(ratios),
        Stats.max(ratios));
  }

  private static double median(
      List<Map<Variant, Phase>> rounds, Variant v, ToDoubleFunction<Phase> f) {
    List<Double> values = new ArrayList<>();
    for (Map<Variant, Phase> r : rounds) {
      values.add(f.applyAsDouble(r.get(v)));
    }
    return Stats.median(values);
  }
}
