package dev.unpoll.faults;

import static org.awaitility.Awaitility.await;

import dev.unpoll.relay.RelayMain;
import dev.unpoll.testkit.ChildJvm;
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

  /** The relay's role: the least-privilege one {@code unpoll grants} prints, not a superuser. */
  final String relayRole;

  /** The relay role's password, never in a file or a log. */
  final String relayPassword = "fi-relay-" + java.util.UUID.randomUUID();

  /** A SASL secret in the relay's producer settings: it must not reach a log either. */
  final String saslSecret = "fi-sasl-" + java.util.UUID.randomUUID();

  /** JVM options of the relay processes besides the heap (e.g. DEBUG logging). */
  final List<String> relayJvmOptions = new java.util.ArrayList<>();

  /** JVM options of the consumer processes besides the heap. */
  final List<String> consumerJvmOptions = new java.util.ArrayList<>();

  static final String RELAY_PASSWORD_VARIABLE = "FI_RELAY_PASSWORD";
  private final Path config;
  private final List<Map<TopicPartition, Long>> marks = new java.util.ArrayList<>();
  private final List<Double> recoveries = new java.util.ArrayList<>();
  private final List<String> slotAhead = new java.util.ArrayList<>();
  private int slotChecks;
  private boolean granted;
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
    this(server, kafka, dir, name, relayKafkaProperties, "1s", "");
  }

  /**
   * With the relay's {@code source.heartbeat-interval} (e.g. {@code 1h} so that it never fires
   * within a run) and more table mappings: YAML list items under {@code tables:}, indented by two
   * spaces ({@code " - table: fi.docs\n topic: ...\n"}), or empty.
   */
  Harness(
      TestPostgres server,
      TestKafka kafka,
      Path dir,
      String name,
      Map<String, String> relayKafkaProperties,
      String heartbeatInterval,
      String moreTables)
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
    this.relayRole = "fi_relay_" + name;
    Map<String, String> producer = new java.util.TreeMap<>(relayKafkaProperties);
    producer.put(
        "sasl.jaas.config",
        "'org.apache.kafka.common.security.plain.PlainLoginModule required username=\"fi\""
            + " password=\""
            + saslSecret
            + "\";'");
    Files.writeString(
        config,
        """
        source:
          jdbc-url: %s
          user: %s
          password: ${%s}
          slot: %s
          publication: %s
          heartbeat-interval: %s
        kafka:
          bootstrap-servers: %s
          properties: {%s}
        outbox:
          table: public.unpoll_outbox
          topic-pattern: %s
        tables:
          - table: fi.jobs
            topic: %s
        %shttp:
          port: 0
        """
            .formatted(
                db.jdbcUrl(),
                relayRole,
                RELAY_PASSWORD_VARIABLE,
                slot,
                slot,
                heartbeatInterval,
                kafka.bootstrapServers(),
                String.join(
                    ", ",
                    producer.entrySet().stream()
                        .map(e -> e.getKey() + ": " + e.getValue())
                        .sorted()
                        .toList()),
                outboxTopic,
                legacyTopic,
                moreTables));
  }

  /**
   * Creates the relay's role from what {@code unpoll grants} prints for the relay's file, run as
   * the superuser, as docs/security.md tells an operator to (once, before the relay's first start):
   * the relay of every fault run is that role, not a superuser.
   */
  private void grantRelayRole() throws SQLException {
    if (granted) {
      return;
    }
    granted = true;
    String sql = unpollText("grants", "--config", config.toString(), "--role", relayRole);
    if (!sql.contains("CREATE ROLE")) {
      throw new IllegalStateException("unpoll grants printed no role: " + sql);
    }
    try (Connection c = db.connect();
        java.sql.Statement s = c.createStatement()) {
      s.execute(sql);
      s.execute("ALTER ROLE " + relayRole + " PASSWORD '" + relayPassword + "'");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = '"
                  + relayRole
                  + "'")) {
        rs.next();
        if (rs.getBoolean(1)) {
          throw new IllegalStateException(relayRole + " has more than the least privilege");
        }
      }
    }
  }

  private Map<String, String> environment() {
    return Map.of(
        LedgerConsumer.PASSWORD_VARIABLE, db.password(), RELAY_PASSWORD_VARIABLE, relayPassword);
  }

  void startRelay() throws IOException {
    startRelay("256m");
    await().atMost(Duration.ofSeconds(90)).until(() -> slotActive(true));
  }

  /** Starts the relay with this heap and does not wait for it to stream. */
  void startRelay(String maxHeap) throws IOException {
    relay = launchRelay("relay", config, maxHeap);
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
    return launchRelay(name, config, "256m");
  }

  /** A relay process as the relay's role, logging to {@code <name>.log}. */
  private ChildJvm launchRelay(String name, Path config, String maxHeap) throws IOException {
    try {
      grantRelayRole(); // at the first start: the tables of the relay's file exist by then
    } catch (SQLException e) {
      throw new IOException("cannot create the relay's role: " + e.getMessage(), e);
    }
    relayStarts++;
    List<String> options = new java.util.ArrayList<>(List.of("-Xmx" + maxHeap));
    options.addAll(relayJvmOptions);
    return ChildJvm.start(
        name + "#" + relayStarts,
        RelayMain.class,
        options,
        List.of("--config", config.toString()),
        Map.of(RELAY_PASSWORD_VARIABLE, relayPassword),
        dir.resolve(name + ".log"));
  }

  void startConsumer() throws IOException {
    consumer = newConsumer();
  }

  /** Another consumer process in the same group (the caller owns it). */
  ChildJvm newConsumer() throws IOException {
    return newConsumer(consumerJvmOptions, legacyTopic, outboxTopic);
  }

  /** A consumer process on these topics with these JVM options (the caller owns it). */
  ChildJvm newConsumer(List<String> jvmOptions, String... topics) throws IOException {
    consumerStarts++;
    List<String> options = new java.util.ArrayList<>(List.of("-Xmx256m"));
    options.addAll(jvmOptions);
    List<String> args =
        new java.util.ArrayList<>(List.of(kafka.bootstrapServers(), db.jdbcUrl(), db.user()));
    args.addAll(List.of(topics));
    return ChildJvm.start(
        "consumer#" + consumerStarts,
        LedgerConsumer.class,
        options,
        args,
        Map.of(LedgerConsumer.PASSWORD_VARIABLE, db.password()),
        dir.resolve("consumer.log"));
  }

  /** Runs {@code unpoll <command> --config relay.yaml --json} in this JVM; returns stdout. */
  String unpoll(String command) {
    return unpollText(command, "--config", config.toString(), "--json");
  }

  /** Runs {@code unpoll <args>} in this JVM; returns its standard output and error. */
  String unpollText(String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cl = dev.unpoll.cli.Unpoll.commandLine(environment(), false);
    cl.setOut(new java.io.PrintWriter(out, true));
    cl.setErr(new java.io.PrintWriter(err, true));
    cl.execute(args);
    return out + err.toString();
  }

  /**
   * The fault is injected now: marks the topics' ends, so that records published again after this
   * count towards this injection's duplicate window.
   */
  void injected() throws Exception {
    marks.add(endOffsets());
  }

  /**
   * The fault is released now (the process restarted or resumed, the server back): waits until the
   * consumer has applied as many events as were committed at this moment and records how long that
   * took, the injection's recovery time.
   */
  void released() throws Exception {
    long start = System.nanoTime();
    long committed = ledger.count(Ledger.Outcome.COMMITTED);
    await()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> checker.effects() >= committed);
    recoveries.add((System.nanoTime() - start) / 1e9);
  }

  /**
   * With the relay down: the slot's confirmed position must not be ahead of what Kafka
   * acknowledged. Every committed entry whose commit surely ends at or before that position (the
   * slot will never send it again) must already be in its topic.
   */
  void checkSlotNotAheadOfKafka() throws Exception {
    long confirmed;
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::bigint FROM pg_replication_slots"
                    + " WHERE slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return; // no slot (dropped on purpose): nothing to compare
        }
        confirmed = rs.getLong(1);
      }
    }
    java.util.Set<String> inTopics = checker.idsInTopics();
    slotChecks++;
    long behind = 0;
    for (Ledger.Entry e : ledger.committedAtOrBefore(confirmed)) {
      if (!inTopics.contains(e.kind() + ":" + e.id())) {
        if (slotAhead.size() < 10) {
          slotAhead.add(e.kind() + ":" + e.id() + " (slot confirmed " + confirmed + ")");
        }
        behind++;
      }
    }
    LOG.info(
        "slot check {}: confirmed {}, {} committed entries before it not in Kafka",
        slotChecks,
        confirmed,
        behind);
  }

  private Map<TopicPartition, Long> endOffsets() throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
    for (String topic : List.of(legacyTopic, outboxTopic)) {
      for (int p = 0; p < 3; p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
    }
    Map<TopicPartition, Long> ends = new java.util.HashMap<>();
    kafka.admin().listOffsets(latest).all().get().forEach((tp, o) -> ends.put(tp, o.offset()));
    return ends;
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
  long published() throws Exception {
    return endOffsets().values().stream().mapToLong(Long::longValue).sum();
  }

  /** A random point: between {@code min} and {@code max} more records published from now. */
  long nextPoint(int min, int max) throws Exception {
    return published() + min + random.nextInt(max - min + 1);
  }

  /**
   * Stops the writers, waits until every committed entry has been applied (or 3 minutes), then
   * checks the invariants, the slot checks made on the way and the processes' logs (no password, no
   * SASL secret, no payload). Records the figures ({@link FaultResults}) under the fault's number
   * when the label starts with one ({@code "5b. one of two consumers SIGKILL"}). Throws with the
   * report when an invariant fails.
   */
  Checker.Report settleAndCheck(String fault) throws Exception {
    java.util.regex.Matcher label =
        java.util.regex.Pattern.compile("(\\d+[a-z]?)\\. (.+)").matcher(fault);
    boolean numbered = label.matches(); // "5b. ...": recorded under issue 12's number
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
    Checker.Report report = checker.check(ledger, marks);
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
    if (!slotAhead.isEmpty()) {
      throw new AssertionError(
          fault
              + ": the slot's confirmed position was ahead of what Kafka acknowledged (replay with"
              + " -Dunpoll.faults.seed="
              + seed
              + "): "
              + slotAhead);
    }
    List<String> leaks = secretsInLogs();
    if (!leaks.isEmpty()) {
      throw new AssertionError(
          fault + ": secrets or payloads in the logs in " + dir + ": " + leaks);
    }
    if (!numbered) {
      return report;
    }
    FaultResults.record(
        new FaultResults.Fault(
            label.group(1),
            label.group(2),
            marks.size(),
            report.committed(),
            Math.max(report.missingCount(), report.effectsMissing()),
            report.effectsTwiceCount(),
            report.maxTopicDuplicates(),
            recoveries.stream().mapToDouble(Double::doubleValue).max().orElse(0),
            seed));
    return report;
  }

  /**
   * Lines of the processes' logs that hold the database password, the relay role's password, the
   * SASL secret or the marker planted in every payload.
   */
  List<String> secretsInLogs() throws IOException {
    List<String> found = new java.util.ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path log : files.filter(f -> f.toString().endsWith(".log")).toList()) {
        try (var lines = Files.lines(log, java.nio.charset.StandardCharsets.ISO_8859_1)) {
          lines
              .filter(
                  l ->
                      l.contains(db.password())
                          || l.contains(relayPassword)
                          || l.contains(saslSecret)
                          || l.contains(LoadGenerator.MARKER))
              .limit(3)
              .forEach(l -> found.add(log.getFileName() + ": " + l));
        }
      }
    }
    return found;
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
