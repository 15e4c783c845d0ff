package dev.unpoll.testkit;

import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/** {@link TestkitMode#CONTAINERS}: the same two servers from Docker images via Testcontainers. */
final class Containers {
  static final String POSTGRES_IMAGE = "postgres:17";
  static final String KAFKA_IMAGE = "apache/kafka:4.1.0";

  private Containers() {}

  static UnpollStack start() {
    PostgreSQLContainer<?> pg =
        new PostgreSQLContainer<>(DockerImageName.parse(POSTGRES_IMAGE))
            .withCommand(
                "postgres",
                "-c",
                "wal_level=logical",
                "-c",
                "max_replication_slots=64",
                "-c",
                "max_wal_senders=64",
                "-c",
                "synchronous_commit=on",
                "-c",
                "fsync=off");
    KafkaContainer kafka =
        new KafkaContainer(DockerImageName.parse(KAFKA_IMAGE))
            .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
    pg.start();
    try {
      kafka.start();
    } catch (RuntimeException e) {
      pg.stop();
      throw e;
    }
    return UnpollStack.of(
        TestkitMode.CONTAINERS,
        TestPostgres.fromJdbcUrl(pg.getJdbcUrl(), pg.getUsername(), pg.getPassword()),
        new TestKafka(kafka.getBootstrapServers()),
        kafka::stop,
        pg::stop);
  }
}
