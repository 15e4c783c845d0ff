package dev.unpoll.testkit;

import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * A PostgreSQL with logical decoding and a Kafka broker, started together. {@link #shared()} gives
 * the one stack of this JVM, started on first use and stopped when the JVM exits, so test classes
 * share one pair of servers; {@link UnpollStackExtension} hands it to JUnit tests.
 */
public final class UnpollStack implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(UnpollStack.class);
  private static UnpollStack shared;

  private final TestkitMode mode;
  private final TestPostgres postgres;
  private final TestKafka kafka;
  private final AutoCloseable[] servers;

  private UnpollStack(
      TestkitMode mode, TestPostgres postgres, TestKafka kafka, AutoCloseable... servers) {
    this.mode = mode;
    this.postgres = postgres;
    this.kafka = kafka;
    this.servers = servers;
  }

  /** The stack of this JVM in the mode {@link TestkitMode#fromEnvironment()} names. */
  public static synchronized UnpollStack shared() {
    if (shared == null) {
      UnpollStack stack = start(TestkitMode.fromEnvironment(), System.getenv());
      Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "unpoll-testkit-stop"));
      shared = stack;
    }
    return shared;
  }

  /** Starts a new stack; the caller closes it. */
  public static UnpollStack start(TestkitMode mode, Map<String, String> env) {
    Objects.requireNonNull(mode, "mode");
    switch (mode) {
      case AUTO:
        return start(dockerAnswers() ? TestkitMode.CONTAINERS : TestkitMode.EMBEDDED, env);
      case CONTAINERS:
        return Containers.start();
      case EXTERNAL:
        {
          TestkitMode.External external = TestkitMode.External.from(env);
          return new UnpollStack(
              mode,
              TestPostgres.fromJdbcUrl(external.jdbcUrl(), external.user(), external.password()),
              new TestKafka(external.bootstrapServers()));
        }
      case EMBEDDED:
      default:
        {
          long started = System.nanoTime();
          EmbeddedPostgresServer pg = EmbeddedPostgresServer.builder().start();
          EmbeddedKafkaBroker broker;
          try {
            broker = EmbeddedKafkaBroker.builder().start();
          } catch (RuntimeException e) {
            pg.close();
            throw e;
          }
          LOG.info(
              "unpoll testkit (embedded) ready in {} ms",
              (System.nanoTime() - started) / 1_000_000);
          return new UnpollStack(mode, pg.postgres(), broker.kafka(), broker, pg);
        }
    }
  }

  static UnpollStack of(
      TestkitMode mode, TestPostgres postgres, TestKafka kafka, AutoCloseable... servers) {
    return new UnpollStack(mode, postgres, kafka, servers);
  }

  private static boolean dockerAnswers() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  public TestkitMode mode() {
    return mode;
  }

  public TestPostgres postgres() {
    return postgres;
  }

  public TestKafka kafka() {
    return kafka;
  }

  /** Stops the servers this stack started (none in external mode) and closes its clients. */
  @Override
  public void close() {
    postgres.close();
    kafka.close();
    for (AutoCloseable server : servers) {
      try {
        server.close();
      } catch (Exception e) {
        LOG.warn("{} did not stop cleanly: {}", server, e.toString());
      }
    }
  }
}
