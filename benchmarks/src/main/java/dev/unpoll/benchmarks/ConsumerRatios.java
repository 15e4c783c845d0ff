package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.BenchResults.Ratio;
import dev.unpoll.benchmarks.ConsumerBench.Measurement;
import dev.unpoll.benchmarks.ConsumerBench.Paced;
import dev.unpoll.benchmarks.ConsumerBench.Transactions;
import dev.unpoll.benchmarks.ConsumerBench.Variant;
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
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * What idempotency costs a consumer (issue 13, measure C1): throughput of the idempotent consumer
 * divided by that of a plain consumer with the same handler, measured in interleaved rounds against
 * the same PostgreSQL and Kafka broker; and the database transactions per event of {@link
 * dev.unpoll.consumer.KafkaConsumerRunner} on a paced stream, with and without a batch wait. See
 * docs/benchmarks.md, section "Consumer: what idempotency costs".
 *
 * <p>Every round produces a fresh batch of events per variant to a new topic and consumes it with a
 * new consumer group; the rounds run the variants in each of the six orders in turn. A round's
 * ratio compares a variant with the plain baseline of the same round; the report gives the median
 * and the spread over the rounds. Warm-up rounds are measured and checked like the others but not
 * reported. The paced part then runs the runner at {@code paced.rate} events/s for each batch wait,
 * in rotated order per round.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.ConsumerRatios [--publish]
 * </pre>
 *
 * System properties: {@code transactions}: {@code batch} (the runner's default: one database
 * transaction per poll batch), {@code record} (one per record), {@code batch,record} (default) or
 * {@code none}; {@code rounds} (default {@value #DEFAULT_ROUNDS}) and {@code warmup} rounds
 * (default {@value #DEFAULT_WARMUP}) per mode; {@code events.batch} and {@code events.record}:
 * events per variant per round (default {@value #DEFAULT_EVENTS_BATCH} and {@value
 * #DEFAULT_EVENTS_RECORD}: a commit per record is an fsync per record); {@code redelivered}: events
 * replayed once after the first round of each mode to check that duplicates are skipped (default
 * {@value #DEFAULT_REDELIVERED}); {@code paced.waits}: batch waits in ms (default {@code
 * 0,5,20,50}, empty for none); {@code paced.rate}: events/s (default {@value #DEFAULT_PACED_RATE});
 * {@code paced.events} per run (default {@value #DEFAULT_PACED_EVENTS}); {@code paced.rounds}
 * (default {@value #DEFAULT_PACED_ROUNDS}). {@code --publish} merges the C1 measures into {@code
 * docs/benchmarks/results.json} (or the file named by {@code results}).
 */
public final class ConsumerRatios {
  static final int DEFAULT_ROUNDS = 12;
  static final int DEFAULT_WARMUP = 1;
  static final int DEFAULT_EVENTS_BATCH = 20_000;
  static final int DEFAULT_EVENTS_RECORD = 2_000;
  static final int DEFAULT_REDELIVERED = 1_000;
  static final double DEFAULT_PACED_RATE = 200;
  static final int DEFAULT_PACED_EVENTS = 2_000;
  static final int DEFAULT_PACED_ROUNDS = 3;
  static final String DEFAULT_PACED_WAITS = "0,5,20,50";
  static final double GOAL = 0.9;
  static final List<Variant> VARIANTS = List.of(Variant.values());

  /** The six orders of the three variants; round k runs ORDERS[k % 6]. */
  static final List<List<Variant>> ORDERS = orders();

  private ConsumerRatios() {}

  /** What one run measures. */
  record Settings(
      List<Transactions> modes,
      int rounds,
      int warmup,
      Map<Transactions, Integer> events,
      int redelivered,
      List<Duration> waits,
      double pacedRate,
      int pacedEvents,
      int pacedRounds) {
    static Settings fromSystemProperties() {
      Map<Transactions, Integer> events = new EnumMap<>(Transactions.class);
      events.put(Transactions.BATCH, Integer.getInteger("events.batch", DEFAULT_EVENTS_BATCH));
      events.put(Transactions.RECORD, Integer.getInteger("events.record", DEFAULT_EVENTS_RECORD));
      List<Transactions> modes = new ArrayList<>();
      for (String m : System.getProperty("transactions", "batch,record").split(",")) {
        if (!m.isBlank() && !m.trim().equalsIgnoreCase("none")) {
          modes.add(Transactions.valueOf(m.trim().toUpperCase(Locale.ROOT)));
        }
      }
      List<Duration> waits = new ArrayList<>();
      for (String w : System.getProperty("paced.waits", DEFAULT_PACED_WAITS).split(",")) {
        if (!w.isBlank()) {
          waits.add(Duration.ofMillis(Long.parseLong(w.trim())));
        }
      }
      return new Settings(
          modes,
          Integer.getInteger("rounds", DEFAULT_ROUNDS),
          Integer.getInteger("warmup", DEFAULT_WARMUP),
          events,
          Integer.getInteger("redelivered", DEFAULT_REDELIVERED),
          waits,
          Double.parseDouble(System.getProperty("paced.rate", Double.toString(DEFAULT_PACED_RATE))),
          Integer.getInteger("paced.events", DEFAULT_PACED_EVENTS),
          Integer.getInteger("paced.rounds", DEFAULT_PACED_ROUNDS));
    }

    void validate() {
      if (rounds < 1
          || warmup < 0
          || events.values().stream().anyMatch(n -> n < 2)
          || pacedRate <= 0
          || pacedEvents < 2
          || pacedRounds < 1
          || waits.stream().anyMatch(Duration::isNegative)
          || (!waits.isEmpty() && !waits.get(0).isZero())) {
        throw new IllegalArgumentException(
            this
                + ": need rounds 1+, warmup 0+, events 2+, paced.rate > 0, paced.events 2+,"
                + " paced.rounds 1+, paced.waits starting with 0 (the baseline)");
      }
    }
  }

  /** One mode's measured (non-warm-up) rounds: events/s per variant, and the report's rows. */
  record ModeResult(
      Transactions mode,
      int events,
      List<Map<Variant, Double>> rounds,
      List<String> rows,
      List<String> redelivery) {
    List<Double> ratios(Variant v) {
      List<Double> r = new ArrayList<>();
      for (Map<Variant, Double> round : rounds) {
        r.add(round.get(v) / round.get(Variant.PLAIN));
      }
      return r;
    }

    List<Double> rates(Variant v) {
      List<Double> r = new ArrayList<>();
      rounds.forEach(round -> r.add(round.get(v)));
      return r;
    }
  }

  /** Everything one run measured. */
  record Result(List<ModeResult> modes, List<Map<Duration, Paced>> paced, String environment) {}

  public static void main(String[] args) throws Exception {
    Settings settings = Settings.fromSystemProperties();
    long started = System.nanoTime();
    Result result = run(settings);
    report(settings, result, List.of(args).contains("--publish"));
    System.out.printf("%ntotal time %.0f s%n", (System.nanoTime() - started) / 1e9);
  }

  /** Runs every mode, then the paced runs; throws on any failed check. */
  static Result run(Settings settings) throws Exception {
    settings.validate();
    List<ModeResult> modes = new ArrayList<>();
    List<Map<Duration, Paced>> paced = new ArrayList<>();
    String environment;
    try (ConsumerBench bench = ConsumerBench.start()) {
      environment =
          String.format(
              "JDK %s (%s), %d CPUs seen by the JVM, PostgreSQL %s (fsync=%s, full_page_writes=%s,"
                  + " synchronous_commit=%s), Kafka %s in this JVM",
              System.getProperty("java.version"),
              System.getProperty("java.vm.name"),
              Runtime.getRuntime().availableProcessors(),
              bench.setting("server_version"),
              bench.setting("fsync"),
              bench.setting("full_page_writes"),
              bench.setting("synchronous_commit"),
              AppInfoParser.getVersion());
      System.out.println(environment);
      System.out.printf(
          "%d warm-up + %d rounds per mode, events per variant per round %s; paced: %s ms at %.0f"
              + " events/s, %d events, %d rounds%n",
          settings.warmup(),
          settings.rounds(),
          settings.events(),
          settings.waits().stream().map(Duration::toMillis).toList(),
          settings.pacedRate(),
          settings.pacedEvents(),
          settings.pacedRounds());
      for (Transactions tx : settings.modes()) {
        int n = settings.events().get(tx);
        modes.add(
            runMode(
                bench,
                tx,
                settings.rounds(),
                settings.warmup(),
                n,
                Math.min(n, settings.redelivered())));
      }
      if (!settings.waits().isEmpty()) {
        System.out.printf(
            "%n== paced: %.0f events/s, runner with batch waits %s ms ==%n",
            settings.pacedRate(), settings.waits().stream().map(Duration::toMillis).toList());
        for (int k = 0; k < settings.pacedRounds(); k++) {
          Map<Duration, Paced> round = new LinkedHashMap<>();
          List<Duration> waits = settings.waits();
          for (int i = 0; i < waits.size(); i++) {
            Duration w = waits.get((i + k) % waits.size());
            Paced p = bench.paced("p" + (k + 1), w, settings.pacedRate(), settings.pacedEvents());
            System.out.printf(
                Locale.ROOT,
                "p%d wait %d ms: %d events sent at %.0f/s, %d transactions (%.3f per event),"
                    + " end-to-end p50 %.1f ms, p99 %.1f ms%n",
                k + 1,
                w.toMillis(),
                p.events(),
                p.sentPerSecond(),
                p.transactions(),
                p.transactionsPerEvent(),
                p.p50Millis(),
                p.p99Millis());
            round.put(w, p);
          }
          paced.add(round);
        }
      }
    }
    return new Result(modes, paced, environment);
  }

  private static ModeResult runMode(
      ConsumerBench bench, Transactions tx, int rounds, int warmup, int events, int redelivered)
      throws Exception {
    System.out.printf("%n== transactions per %s ==%n", tx.name().toLowerCase(Locale.ROOT));
    List<Map<Variant, Double>> measured = new ArrayList<>();
    List<String> rows = new ArrayList<>();
    List<String> redelivery = new ArrayList<>();
    CpuAccounting cpu = bench.cpu();
    for (int k = 0; k < warmup + rounds; k++) {
      boolean warm = k < warmup;
      String label = warm ? "w" + (k + 1) : "r" + (k - warmup + 1);
      Map<Variant, Measurement> round = new EnumMap<>(Variant.class);
      List<Variant> order = ORDERS.get(k % ORDERS.size());
      CpuAccounting.Snapshot cpuBefore = cpu.snapshot();
      for (Variant v : order) {
        round.put(v, bench.measure(v, tx, label, events));
      }
      Map<Variant, Double> eps = new EnumMap<>(Variant.class);
      round.forEach((v, m) -> eps.put(v, m.eventsPerSecond()));
      double others = CpuAccounting.othersCores(cpuBefore, cpu.snapshot());
      String row = row(label, order, eps, others);
      System.out.println((warm ? "(warm-up) " : "") + row);
      if (!warm) {
        measured.add(eps);
        rows.add(row);
      }
      if (k == 0) {
        for (Variant v : VARIANTS) {
          String line = "redelivery check: " + bench.redeliver(round.get(v), redelivered);
          System.out.println(line);
          redelivery.add(line);
        }
      }
    }
    return new ModeResult(tx, events, measured, rows, redelivery);
  }

  /** Prints the tables; with {@code publish}, merges the C1 measures into the results file. */
  static void report(Settings settings, Result result, boolean publish) throws IOException {
    for (ModeResult m : result.modes()) {
      System.out.printf(
          "%n== transactions per %s: per round (events/s, in the order the round ran them) ==%n%n",
          m.mode().name().toLowerCase(Locale.ROOT));
      System.out.println(
          "| round | first | second | third | IDEMPOTENT_LOOP ÷ PLAIN | RUNNER ÷ PLAIN |"
              + " other processes (cores) |");
      System.out.println("|---|---|---|---|---|---|---|");
      m.rows().forEach(System.out::println);
      System.out.printf(
          "%nSummary (%d rounds, %d events per variant per round):%n%n",
          m.rounds().size(), m.events());
      System.out.println(
          "| variant | median events/s | median ratio to PLAIN | min ratio | max ratio |");
      System.out.println("|---|---|---|---|---|");
      for (Variant v : VARIANTS) {
        Ratio r = Ratio.of(m.ratios(v));
        System.out.printf(
            Locale.ROOT,
            "| `%s` | %.0f | %.3f | %.3f | %.3f |%n",
            v,
            Stats.median(m.rates(v)),
            r.median(),
            r.min(),
            r.max());
      }
    }
    if (!result.paced().isEmpty()) {
      System.out.printf(
          "%n== paced (%.0f events/s, %d events per run, %d rounds): medians, ratio to wait 0 per"
              + " round ==%n%n",
          settings.pacedRate(), settings.pacedEvents(), result.paced().size());
      System.out.println(
          "| batch wait | transactions per event | ÷ wait 0 (median, min, max) | end-to-end p50 |"
              + " p99 | p99 − wait 0's |");
      System.out.println("|---|---|---|---|---|---|");
      for (Duration w : settings.waits()) {
        Ratio tx = pacedRatio(result, w, Paced::transactionsPerEvent);
        System.out.printf(
            Locale.ROOT,
            "| %d ms | %.3f | %.3f (%.3f to %.3f) | %.1f ms | %.1f ms | %+.1f ms |%n",
            w.toMillis(),
            pacedMedian(result, w, Paced::transactionsPerEvent),
            tx.median(),
            tx.min(),
            tx.max(),
            pacedMedian(result, w, Paced::p50Millis),
            pacedMedian(result, w, Paced::p99Millis),
            pacedMedian(result, w, Paced::p99Millis)
                - pacedMedian(result, Duration.ZERO, Paced::p99Millis));
      }
    }
    if (publish) {
      publish(settings, result);
    }
  }

  /** The C1 measures for docs/benchmarks/results.json. */
  static List<Measure> measures(Settings settings, Result result) {
    List<Measure> measures = new ArrayList<>();
    for (ModeResult m : result.modes()) {
      boolean batch = m.mode() == Transactions.BATCH;
      Ratio runner = Ratio.of(m.ratios(Variant.RUNNER));
      measures.add(
          new Measure(
              batch ? "C1" : "C1.per_record",
              Stats.median(m.rates(Variant.RUNNER)),
              Stats.median(m.rates(Variant.PLAIN)),
              runner,
              "idempotent runner (KafkaConsumerRunner) ÷ plain consumer, same handler, one"
                  + (batch ? " transaction per poll batch" : " transaction per record")
                  + ", per round",
              batch ? "≥ " + GOAL : null,
              batch ? runner.median() >= GOAL : null,
              "events/s"));
      Ratio loop = Ratio.of(m.ratios(Variant.IDEMPOTENT_LOOP));
      measures.add(
          new Measure(
              batch ? "C1.idempotent_loop" : "C1.per_record.idempotent_loop",
              Stats.median(m.rates(Variant.IDEMPOTENT_LOOP)),
              Stats.median(m.rates(Variant.PLAIN)),
              loop,
              "IdempotentConsumer in the plain consumer's own loop ÷ plain consumer, per round",
              null,
              null,
              "events/s"));
    }
    if (!result.paced().isEmpty()) {
      double base = pacedMedian(result, Duration.ZERO, Paced::transactionsPerEvent);
      for (Duration w : settings.waits()) {
        String suffix = ".wait_" + w.toMillis() + "ms";
        boolean isBase = w.isZero();
        Ratio tx = pacedRatio(result, w, Paced::transactionsPerEvent);
        measures.add(
            new Measure(
                "C1.tx_per_event" + suffix,
                pacedMedian(result, w, Paced::transactionsPerEvent),
                isBase ? null : base,
                isBase ? null : tx,
                isBase
                    ? null
                    : "transactions per event with a "
                        + w.toMillis()
                        + " ms batch wait ÷ without, at "
                        + Math.round(settings.pacedRate())
                        + " events/s, per round",
                isBase ? null : "< 1 (falls with the wait)",
                isBase ? null : tx.median() < 1.0,
                "transactions/event"));
        for (boolean p99 : List.of(false, true)) {
          ToDoubleFunction<Paced> f = p99 ? Paced::p99Millis : Paced::p50Millis;
          measures.add(
              new Measure(
                  "C1.latency." + (p99 ? "p99" : "p50") + suffix,
                  pacedMedian(result, w, f),
                  isBase ? null : pacedMedian(result, Duration.ZERO, f),
                  isBase ? null : pacedRatio(result, w, f),
                  isBase
                      ? null
                      : "end-to-end "
                          + (p99 ? "p99" : "p50")
                          + " (ce_time to the consumer's commit) with the wait ÷ without, per"
                          + " round: the wait's latency cost",
                  null,
                  null,
                  "ms"));
        }
      }
    }
    return measures;
  }

  private static void publish(Settings s, Result result) throws IOException {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("harness", ConsumerRatios.class.getName());
    settings.put("modes", s.modes().stream().map(m -> m.name().toLowerCase(Locale.ROOT)).toList());
    settings.put("rounds", s.rounds());
    settings.put("warmup", s.warmup());
    settings.put("events_batch", s.events().get(Transactions.BATCH));
    settings.put("events_record", s.events().get(Transactions.RECORD));
    settings.put("paced_waits_ms", s.waits().stream().map(Duration::toMillis).toList());
    settings.put("paced_rate", s.pacedRate());
    settings.put("paced_events", s.pacedEvents());
    settings.put("paced_rounds", s.pacedRounds());
    settings.put("environment", result.environment());
    Path file = Path.of(System.getProperty("results", BenchResults.DEFAULT_FILE.toString()));
    BenchResults.merge(file, "C1", settings, measures(s, result));
    System.out.println("published to " + file.toAbsolutePath());
  }

  private static double pacedMedian(Result result, Duration wait, ToDoubleFunction<Paced> f) {
    List<Double> values = new ArrayList<>();
    result.paced().forEach(round -> values.add(f.applyAsDouble(round.get(wait))));
    return Stats.median(values);
  }

  /** Per round: the figure with {@code wait} ÷ the same round's figure without a wait. */
  private static Ratio pacedRatio(Result result, Duration wait, ToDoubleFunction<Paced> f) {
    List<Double> ratios = new ArrayList<>();
    for (Map<Duration, Paced> round : result.paced()) {
      ratios.add(f.applyAsDouble(round.get(wait)) / f.applyAsDouble(round.get(Duration.ZERO)));
    }
    return Ratio.of(ratios);
  }

  private static List<List<Variant>> orders() {
    List<List<Variant>> orders = new ArrayList<>();
    for (Variant a : Variant.values()) {
      for (Variant b : Variant.values()) {
        for (Variant c : Variant.values()) {
          if (a != b && b != c && a != c) {
            orders.add(List.of(a, b, c));
          }
        }
      }
    }
    return List.copyOf(orders);
  }

  private static String row(
      String label, List<Variant> order, Map<Variant, Double> eps, double othersCores) {
    StringBuilder s = new StringBuilder("| " + label + " |");
    for (Variant v : order) {
      s.append(String.format(Locale.ROOT, " %s %.0f |", v, eps.get(v)));
    }
    s.append(
        String.format(
            Locale.ROOT,
            " %.3f | %.3f | %.2f |",
            eps.get(Variant.IDEMPOTENT_LOOP) / eps.get(Variant.PLAIN),
            eps.get(Variant.RUNNER) / eps.get(Variant.PLAIN),
            othersCores));
    return s.toString();
  }
}
