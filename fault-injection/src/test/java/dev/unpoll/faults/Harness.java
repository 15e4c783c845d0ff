package dev.unpoll.faults;

import static org.awaitility.Awaitility.await;

import dev.unpoll.relay.RelayMain;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fault run: a database, two topics (the legacy table's and the outbox's), the relay and the
 * consumer as child processes, the writers and the ledger, the checker. Sizes and the number of
 * injections come from system properties so that the suite runs a short version and one command the
 * full one (see docs/reliability.md); the seed is logged so that a failure replays.
 */
final class Harness implements AutoCloseable {
  static final Logger LOG = LoggerFactory.getLogger("dev.unpoll.faults");

  /** Injections per fault: 3 in the suite, at least 20 in the full run. */
  static final int INJECTIONS = Integer.getInteger("unpoll.faults.injections", 3);

  /** Rows of the large transactions: 20,000 in the suite, 100,000 in the full run. */
  static final int LARGE_ROWS = Integer.getInteger("unpoll.faults.large-rows", 20_000);

  final TestPostgres db;
  final TestKafka kafka;
  final Path dir;
  final String slot;
  final String legacyTopic;
  final String outboxTopic;
  final long seed;
  final Random random;
  final Ledger ledger = new Ledger();
  final LoadGenerator load;
  final Checker checker;
  private final Path config;
  private ChildJvm relay;
  private ChildJvm consumer;
  private int relayStarts;
  private int consumerStarts;

  Harness(TestPostgres server, TestKafka kafka, Path dir, String name) throws Exception {
    this(server, kafka, dir, name, Map.of());
  }

  /** With producer settings for the relay ({@code kafka.properties}). */
  Harness(
      TestPostgres server,
      TestKafka kafka,
      Path dir,
      String name,
      Map<String, String> relayKafkaProperties)
      throws Exception {
    this.seed = Long.getLong("unpoll.faults.seed", System.nanoTime());
    LOG.info("fault run {}: seed {} (replay with -Dunpoll.faults.seed={})", name, seed, seed);
    this.random = new Random(seed);
    this.db = server.createDatabase("fi_" + name);
    this.kafka = kafka;
    this.dir = dir;
    this.slot = "fi_" + name;
    this.legacyTopic = kafka.createUniqueTopic("fi-" + name + "-jobs", 3);
    this.outboxTopic = kafka.createUniqueTopic("fi-" + name + "-acct", 3);
    LoadGenerator.createSchema(db.dataSource());
    LedgerConsumer.createSchema(db.dataSource());
    this.load = new LoadGenerator(db.dataSource(), ledger, random.nextLong());
    this.checker = new Checker(kafka.bootstrapServers(), legacyTopic, outboxTopic, db.dataSource());
    this.config = dir.resolve("relay.yaml");
    Files.writeString(
        config,
        """
        source:
          jdbc-url: %s
          user: %s
          password: ${%s}
          slot: %s
          publication: %s
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
          properties: {%s}
        outbox:
          table: public.unpoll_outbox
          topic-pattern: %s
        tables:
          - table: fi.jobs
            topic: %s
        http:
          port: 0
        """
            .formatted(
                db.jdbcUrl(),
                db.user(),
                LedgerConsumer.PASSWORD_VARIABLE,
                slot,
                slot,
                kafka.bootstrapServers(),
                String.join(
                    ", ",
                    relayKafkaProperties.entrySet().stream()
                        .map(e -> e.getKey() + ": " + e.getValue())
                        .sorted()
                        .toList()),
                outboxTopic,
                legacyTopic));
  }

  void startRelay() throws IOException {
    startRelay("256m");
    await().atMost(Duration.ofSeconds(90)).until(() -> slotActive(true));
  }

  /** Starts the relay with this heap and does not wait for it to stream. */
  void startRelay(String maxHeap) throws IOException {
    relayStarts++;
    relay =
        ChildJvm.start(
            "relay#" + relayStarts,
            RelayMain.class,
            maxHeap,
            List.of("--config", config.toString()),
            Map.of(LedgerConsumer.PASSWORD_VARIABLE, db.password()),
            dir.resolve("relay.log"));
  }

  /**
   * The relay's configuration with HA on ({@code ha.enabled}, {@code ha.lock-name}), for a pair of
   * relays started with {@link #startRelayProcess(String, Path)}.
   */
  Path haConfig(String lockName) throws IOException {
    Path ha = dir.resolve("relay-ha.yaml");
    Files.writeString(
        ha,
        Files.readString(config)
            + """
            ha:
              enabled: true
              lock-name: %s
            """
                .formatted(lockName));
    return ha;
  }

  /**
   * Another relay process on {@code config}, logging to {@code <name>.log} in the run's directory;
   * the caller owns it (an HA pair: {@link #relay()} stays unused).
   */
  ChildJvm startRelayProcess(String name, Path config) throws IOException {
    relayStarts++;
    return ChildJvm.start(
        name + "#" + relayStarts,
        RelayMain.class,
        "256m",
        List.of("--config", config.toString()),
        Map.of(LedgerConsumer.PASSWORD_VARIABLE, db.password()),
        dir.resolve(name + ".log"));
  }

  void startConsumer() throws IOException {
    consumer = newConsumer();
  }

  /** Another consumer process in the same group (the caller owns it). */
  ChildJvm newConsumer() throws IOException {
    consumerStarts++;
    return ChildJvm.start(
        "consumer#" + consumerStarts,
        LedgerConsumer.class,
        List.of(kafka.bootstrapServers(), db.jdbcUrl(), db.user(), legacyTopic, outboxTopic),
        Map.of(LedgerConsumer.PASSWORD_VARIABLE, db.password()),
        dir.resolve("consumer.log"));
  }

  /** Runs {@code unpoll <command> --config relay.yaml --json} in this JVM; returns stdout. */
  String unpoll(String command) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cl =
        dev.unpoll.cli.Unpoll.commandLine(
            Map.of(LedgerConsumer.PASSWORD_VARIABLE, db.password()), false);
    cl.setOut(new java.io.PrintWriter(out, true));
    cl.setErr(new java.io.PrintWriter(err, true));
    cl.execute(command, "--config", config.toString(), "--json");
    return out + err.toString();
  }

  /** The relay's log so far. */
  String relayLog() throws IOException {
    return Files.readString(dir.resolve("relay.log"));
  }

  ChildJvm relay() {
    return relay;
  }

  ChildJvm consumer() {
    return consumer;
  }

  /** Lines of the consumer's log that say it failed on an attempt and will retry. */
  long consumerRetries() throws IOException {
    Path log = dir.resolve("consumer.log");
    if (!Files.exists(log)) {
      return 0;
    }
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains("; retrying in ")).count();
    }
  }

  /** Restarts the relay when it exited, as a supervisor would; waits until it streams. */
  void superviseRelay() throws Exception {
    await()
        .atMost(Duration.ofSeconds(120))
        .ignoreExceptions()
        .until(() -> !relay.isAlive() || slotActive(true));
    if (!relay.isAlive()) {
      LOG.info("relay exited with {}; restarting it", relay.exitCode());
      startRelay();
    }
  }

  /** SIGKILL of the relay; returns once PostgreSQL has seen its walsender go. */
  void killRelay() throws Exception {
    relay.kill();
    await().atMost(Duration.ofSeconds(60)).until(() -> slotActive(false));
  }

  boolean slotActive(boolean active) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = ? AND active = ?")) {
      ps.setString(1, slot);
      ps.setBoolean(2, active);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) == 1;
      }
    }
  }

  /** Records in both topics (end offsets). */
  long published() throws InterruptedException, ExecutionException {
    long n = 0;
    for (String topic : List.of(legacyTopic, outboxTopic)) {
      Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
      for (int p = 0; p < 3; p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      for (var o : kafka.admin().listOffsets(latest).all().get().values()) {
        n += o.offset();
      }
    }
    return n;
  }

  /** A random point: between {@code min} and {@code max} more records published from now. */
  long nextPoint(int min, int max) throws Exception {
    return published() + min + random.nextInt(max - min + 1);
  }

  /**
   * Stops the writers, waits until every committed entry has been applied (or 3 minutes), then
   * checks. Throws with the report when an invariant fails.
   */
  Checker.Report settleAndCheck(String fault) throws Exception {
    load.stop();
    long committed = ledger.count(Ledger.Outcome.COMMITTED);
    try {
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> checker.effects() >= committed);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      LOG.warn("{}: only {} of {} effects after 3 minutes", fault, checker.effects(), committed);
    }
    Checker.Report report = checker.check(ledger);
    LOG.info(
        "{} (seed {}, relay starts {}, consumer starts {}): {}",
        fault,
        seed,
        relayStarts,
        consumerStarts,
        report.summary());
    if (!report.ok()) {
      throw new AssertionError(
          fault
              + " broke an invariant (replay with -Dunpoll.faults.seed="
              + seed
              + "; logs in "
              + dir
              + "): "
              + report.summary());
    }
    return report;
  }

  @Override
  public void close() throws Exception {
    load.close();
    for (ChildJvm p : new ChildJvm[] {relay, consumer}) {
      if (p != null) {
        p.close();
      }
    }
  }
}
