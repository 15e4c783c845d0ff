package dev.unpoll.testkit;

import dev.unpoll.testkit.internal.RunDirectories;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka broker in KRaft mode (one combined broker and controller) inside this JVM, from
 * Kafka's own test kit at the Kafka version Debezium is built on. Starts in a few seconds and needs
 * no Docker and no ZooKeeper.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
  static final String DIR_PREFIX = "kafka";

  /** Broker settings every embedded broker starts with; {@link Builder#setting} overrides them. */
  public static final Map<String, String> DEFAULT_SETTINGS =
      Map.of(
          // Otherwise the first consumer group waits 3 s for more members before it starts.
          "group.initial.rebalance.delay.ms", "0",
          "offsets.topic.replication.factor", "1",
          "offsets.topic.num.partitions", "5",
          "transaction.state.log.replication.factor", "1",
          "transaction.state.log.min.isr", "1",
          "auto.create.topics.enable", "true",
          "num.partitions", "1");

  private final KafkaClusterTestKit cluster;
  private final Path runDir;
  private final TestKafka endpoint;
  private final Thread shutdownHook;
  private volatile boolean closed;

  /**
   * The super user of a {@link Builder#saslPlain()} broker, as Kafka's test kit names it; {@link
   * #SASL_USER} has no rights but those ACLs grant.
   */
  public static final String SASL_ADMIN = "plain-admin";

  public static final String SASL_ADMIN_PASSWORD = "plain-admin-secret";

  /** A user of a {@link Builder#saslPlain()} broker without any right until an ACL grants one. */
  public static final String SASL_USER = "plain-user1";

  public static final String SASL_USER_PASSWORD = "plain-user1-secret";

  private EmbeddedKafkaBroker(KafkaClusterTestKit cluster, Path runDir, boolean sasl) {
    this.cluster = cluster;
    this.runDir = runDir;
    this.endpoint =
        new TestKafka(
            cluster.bootstrapServers(),
            sasl ? saslClientProperties(SASL_ADMIN, SASL_ADMIN_PASSWORD) : Map.of());
    this.shutdownHook = new Thread(this::stopBroker, "unpoll-testkit-kafka-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  public static Builder builder() {
    return new Builder();
  }

  public TestKafka kafka() {
    return endpoint;
  }

  /**
   * Stops the broker as an outage looks to its clients: connections drop and nothing answers on its
   * address. Its data and the KRaft controller stay, so {@link #restartBroker()} brings it back on
   * the same address with every record it had. For tests of what clients do while a broker is away.
   */
  public synchronized void shutdownBroker() {
    cluster.brokers().values().forEach(b -> b.shutdown());
    cluster.brokers().values().forEach(b -> b.awaitShutdown());
  }

  /** Starts the broker stopped by {@link #shutdownBroker()} again, on the same address. */
  public synchronized void restartBroker() {
    try {
      cluster.brokers().values().forEach(b -> b.startup());
      cluster.waitForReadyBrokers();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException("cannot restart the embedded Kafka broker: " + e, e);
    }
  }

  @Override
  public void close() {
    stopBroker();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or has run
    }
  }

  private synchronized void stopBroker() {
    if (closed) {
      return;
    }
    closed = true;
    endpoint.close();
    try {
      cluster.close();
    } catch (Exception e) {
      LOG.warn("Kafka broker did not close cleanly: {}", e.toString());
    }
    RunDirectories.deleteRecursively(runDir);
  }

  @Override
  public String toString() {
    return "EmbeddedKafkaBroker[" + endpoint.bootstrapServers() + "]";
  }

  /** The client settings for SASL/PLAIN without TLS as {@code user}. */
  public static Map<String, String> saslClientProperties(String user, String password) {
    return Map.of(
        "security.protocol",
        "SASL_PLAINTEXT",
        "sasl.mechanism",
        "PLAIN",
        "sasl.jaas.config",
        plainJaas(user, password));
  }

  /** The {@code sasl.jaas.config} value for SASL/PLAIN as {@code user}. */
  public static String plainJaas(String user, String password) {
    return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
        + user
        + "\" password=\""
        + password
        + "\";";
  }

  /**
   * Kafka's storage formatter prints "Bootstrap metadata: ..." and "Formatting ..." to stdout,
   * which lands in the output of programs that embed the broker ({@code unpoll demo}, {@code dev
   * up}). Formatting takes milliseconds, once, before the broker serves anyone.
   */
  private static synchronized void formatQuietly(KafkaClusterTestKit cluster) throws Exception {
    java.io.PrintStream stdout = System.out;
    System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    try {
      cluster.format();
    } finally {
      System.setOut(stdout);
    }
  }

  /** Builds and starts an {@link EmbeddedKafkaBroker}. */
  public static final class Builder {
    private Path baseDirectory = TestkitDirectories.base();
    private final Map<String, String> settings = new LinkedHashMap<>(DEFAULT_SETTINGS);
    private boolean sasl;

    private Builder() {}

    /**
     * Clients must authenticate with SASL/PLAIN (no TLS) and are authorized by ACLs: {@link
     * #SASL_ADMIN} is a super user, {@link #SASL_USER} may do nothing an ACL does not grant. The
     * broker's JAAS file is set JVM-wide ({@code java.security.auth.login.config}), as Kafka's test
     * kit does; clients here pass {@code sasl.jaas.config} and do not read it.
     */
    public Builder saslPlain() {
      this.sasl = true;
      return this;
    }

    public Builder baseDirectory(Path dir) {
      this.baseDirectory = Objects.requireNonNull(dir);
      return this;
    }

    public Builder setting(String name, String value) {
      settings.put(Objects.requireNonNull(name), Objects.requireNonNull(value));
      return this;
    }

    public EmbeddedKafkaBroker start() {
      Path base = baseDirectory.toAbsolutePath();
      RunDirectories.cleanStale(base, DIR_PREFIX, dir -> {});
      Path runDir = RunDirectories.create(base, DIR_PREFIX);
      try {
        TestKitNodes nodes =
            new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                .setBaseDirectory(runDir)
                .setBrokerSecurityProtocol(
                    sasl ? SecurityProtocol.SASL_PLAINTEXT : SecurityProtocol.PLAINTEXT)
                // with ACLs on, the controller's own listener must authenticate its callers too
                .setControllerSecurityProtocol(
                    sasl ? SecurityProtocol.SASL_PLAINTEXT : SecurityProtocol.PLAINTEXT)
                .build();
        KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
        settings.forEach(builder::setConfigProp);
        KafkaClusterTestKit cluster = builder.setDeleteOnClose(true).build();
        try {
          formatQuietly(cluster);
          cluster.startup();
          cluster.waitForReadyBrokers();
        } catch (Exception e) {
          cluster.close();
          throw e;
        }
        LOG.info("Kafka broker started: {}", cluster.bootstrapServers());
        return new EmbeddedKafkaBroker(cluster, runDir, sasl);
      } catch (Exception e) {
        RunDirectories.deleteRecursively(runDir);
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("cannot start the embedded Kafka broker: " + e, e);
      }
    }
  }
}
