package dev.unpoll.benchmarks;

import dev.unpoll.benchmarks.ConsumerBench.Measurement;
import dev.unpoll.benchmarks.ConsumerBench.Transactions;
import dev.unpoll.benchmarks.ConsumerBench.Variant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * What idempotency costs a consumer: throughput of the idempotent consumer divided by that of a
 * plain consumer with the same handler, measured in interleaved rounds against the same PostgreSQL
 * and Kafka broker. See docs/benchmarks.md, section "Consumer: what idempotency costs".
 *
 * <p>Every round produces a fresh batch of events per variant to a new topic and consumes it with a
 * new consumer group; the variants take turns going first. A round's ratio compares a variant with
 * the plain baseline of the same round; the report gives the median and the spread over the rounds.
 * Warm-up rounds are measured and checked like the others but not reported.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.ConsumerRatios
 * </pre>
 *
 * System properties: {@code transactions}: {@code batch} (the runner's default: one database
 * transaction per poll batch), {@code record} (one per record), or {@code batch,record} (default:
 * both, one after the other); {@code rounds} (default {@value #DEFAULT_ROUNDS}) and {@code warmup}
 * rounds (default {@value #DEFAULT_WARMUP}) per mode; {@code events.batch} and {@code
 * events.record}: events per variant per round (default {@value #DEFAULT_EVENTS_BATCH} and {@value
 * #DEFAULT_EVENTS_RECORD}: a commit per record is an fsync per record); {@code redelivered}: events
 * replayed once after the first round of each mode to check that duplicates are skipped (default
 * {@value #DEFAULT_REDELIVERED}).
 */
public final class ConsumerRatios {
  static final int DEFAULT_ROUNDS = 10;
  static final int DEFAULT_WARMUP = 1;
  static final int DEFAULT_EVENTS_BATCH = 20_000;
  static final int DEFAULT_EVENTS_RECORD = 2_000;
  static final int DEFAULT_REDELIVERED = 1_000;
  static final List<Variant> VARIANTS = List.of(Variant.values());

  private ConsumerRatios() {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("rounds", DEFAULT_ROUNDS);
    int warmup = Integer.getInteger("warmup", DEFAULT_WARMUP);
    Map<Transactions, Integer> events = new EnumMap<>(Transactions.class);
    events.put(Transactions.BATCH, Integer.getInteger("events.batch", DEFAULT_EVENTS_BATCH));
    events.put(Transactions.RECORD, Integer.getInteger("events.record", DEFAULT_EVENTS_RECORD));
    int redelivered = Integer.getInteger("redelivered", DEFAULT_REDELIVERED);
    List<Transactions> modes = new ArrayList<>();
    for (String m : System.getProperty("transactions", "batch,record").split(",")) {
      modes.add(Transactions.valueOf(m.trim().toUpperCase(Locale.ROOT)));
    }
    if (rounds < 1 || warmup < 0 || events.values().stream().anyMatch(n -> n < 2)) {
      throw new IllegalArgumentException(
          "rounds=" + rounds + ", warmup=" + warmup + ", events=" + events + ": need 1, 0, 2+");
    }
    long started = System.nanoTime();
    try (ConsumerBench bench = ConsumerBench.start()) {
      System.out.printf(
          "JDK %s (%s), %d CPUs seen by the JVM, PostgreSQL %s (fsync=%s, full_page_writes=%s,"
              + " synchronous_commit=%s), Kafka %s in this JVM%n",
          System.getProperty("java.version"),
          System.getProperty("java.vm.name"),
          Runtime.getRuntime().availableProcessors(),
          bench.setting("server_version"),
          bench.setting("fsync"),
          bench.setting("full_page_writes"),
          bench.setting("synchronous_commit"),
          AppInfoParser.getVersion());
      System.out.printf(
          "%d warm-up + %d rounds per mode, events per variant per round %s%n",
          warmup, rounds, events);
      for (Transactions tx : modes) {
        int n = events.get(tx);
        runMode(bench, tx, rounds, warmup, n, Math.min(n, redelivered));
      }
    }
    System.out.printf("%ntotal time %.0f s%n", (System.nanoTime() - started) / 1e9);
  }

  private static void runMode(
      ConsumerBench bench, Transactions tx, int rounds, int warmup, int events, int redelivered)
      throws Exception {
    System.out.printf("%n== transactions per %s ==%n", tx.name().toLowerCase(Locale.ROOT));
    List<Map<Variant, Double>> measured = new ArrayList<>();
    List<String> rows = new ArrayList<>();
    CpuAccounting cpu = bench.cpu();
    for (int k = 0; k < warmup + rounds; k++) {
      boolean warm = k < warmup;
      String label = warm ? "w" + (k + 1) : "r" + (k - warmup + 1);
      Map<Variant, Measurement> round = new EnumMap<>(Variant.class);
      List<Variant> order = new ArrayList<>();
      CpuAccounting.Snapshot cpuBefore = cpu.snapshot();
      for (int i = 0; i < VARIANTS.size(); i++) {
        Variant v = VARIANTS.get((i + k) % VARIANTS.size());
        order.add(v);
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
          System.out.println("redelivery check: " + bench.redeliver(round.get(v), redelivered));
        }
      }
    }
    System.out.printf("%nPer round (events/s, in the order the round ran them):%n%n");
    System.out.println(
        "| round | first | second | third | IDEMPOTENT_LOOP ÷ PLAIN | RUNNER ÷ PLAIN |"
            + " other processes (cores) |");
    System.out.println("|---|---|---|---|---|---|---|");
    rows.forEach(System.out::println);
    System.out.printf(
        "%nSummary (%d rounds, %d events per variant per round):%n%n", rounds, events);
    System.out.println(
        "| variant | median events/s | median ratio to PLAIN | min ratio | max ratio |");
    System.out.println("|---|---|---|---|---|");
    for (Variant v : VARIANTS) {
      List<Double> ops = new ArrayList<>();
      List<Double> ratios = new ArrayList<>();
      for (Map<Variant, Double> r : measured) {
        ops.add(r.get(v));
        ratios.add(r.get(v) / r.get(Variant.PLAIN));
      }
      System.out.printf(
          Locale.ROOT,
          "| `%s` | %.0f | %.3f | %.3f | %.3f |%n",
          v,
          Stats.median(ops),
          Stats.median(ratios),
          Stats.min(ratios),
          Stats.max(ratios));
    }
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
