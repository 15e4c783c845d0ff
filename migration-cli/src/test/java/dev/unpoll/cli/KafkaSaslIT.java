package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kafka.properties} passes through to every Kafka client the CLI and the relay open, proved
 * on a broker that takes only SASL/PLAIN and authorizes with ACLs: {@code unpoll bench --config}
 * (doctor's Kafka check, the bench's admin client, the relay's producer, the claiming consumer)
 * runs through it, and a wrong password is refused with a message that names the problem and leaves
 * nothing behind and no secret in the output.
 */
@ExtendWith(UnpollStackExtension.class)
class KafkaSaslIT {
  @TempDir Path dir;

  @Test
  void benchRunsThroughSaslWithTheConfigsPropertiesAndRefusesAWrongPassword(TestPostgres server)
      throws Exception {
    TestPostgres db = server.createDatabase("kafka_sasl_it");
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().baseDirectory(dir.resolve("kafka")).saslPlain().start()) {
      TestKafka kafka = broker.kafka();
      Path config = config(db, kafka);

      String wrong = "not-the-" + EmbeddedKafkaBroker.SASL_ADMIN_PASSWORD;
      Cli.Result refused =
          bench(db, config, EmbeddedKafkaBroker.plainJaas(EmbeddedKafkaBroker.SASL_ADMIN, wrong));

      assertThat(refused.exit()).as(refused.toString()).isNotZero();
      assertThat(refused.err())
          .contains("(nothing was created)")
          .contains("refused this client's authentication")
          .contains("Invalid username or password")
          .doesNotContain(wrong)
          .doesNotContain(db.password())
          .doesNotContain("\tat ");
      assertThat(refused.out()).doesNotContain(wrong);
      assertThat(
              Fixtures.number(
                  db, "SELECT count(*) FROM pg_namespace WHERE nspname IN ('shop', 'shipping')"))
          .isZero();

      Cli.Result ran =
          bench(
              db,
              config,
              EmbeddedKafkaBroker.plainJaas(
                  EmbeddedKafkaBroker.SASL_ADMIN, EmbeddedKafkaBroker.SASL_ADMIN_PASSWORD));

      assertThat(ran.exit()).as(ran.toString()).isZero();
      assertThat(ran.out())
          .contains("| `L1.p99.poller_1s.50rps` |")
          .contains("removed what it created")
          .doesNotContain(EmbeddedKafkaBroker.SASL_ADMIN_PASSWORD);
      assertThat(kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS))
          .noneMatch(t -> t.startsWith("unpoll-bench-"));
      assertThat(kafka.admin().listConsumerGroups().all().get(30, TimeUnit.SECONDS))
          .extracting(ConsumerGroupListing::groupId)
          .noneMatch(g -> g.startsWith("unpoll-bench-"));
    }
  }

  @Test
  void benchRunsAsAUserWithOnlyThePrefixedAclsDocsCliLists(TestPostgres server) throws Exception {
    TestPostgres db = server.createDatabase("kafka_acl_it");
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().baseDirectory(dir.resolve("kafka")).saslPlain().start()) {
      TestKafka kafka = broker.kafka();
      Path config = config(db, kafka);
      String jaas =
          EmbeddedKafkaBroker.plainJaas(
              EmbeddedKafkaBroker.SASL_USER, EmbeddedKafkaBroker.SASL_USER_PASSWORD);
      // no ACL yet: the authorizer refuses the user, before anything is created
      Cli.Result denied = bench(db, config, jaas);
      assertThat(denied.exit()).as(denied.toString()).isEqualTo(3);
      assertThat(denied.err())
          .contains("(nothing was created)")
          .contains("TopicAuthorizationException")
          .contains("ACL CREATE on the cluster or the topic prefix unpoll-bench-");

      // docs/cli.md, unpoll bench's privileges on Kafka
      List<AclBinding> documented =
          List.of(
              allow(ResourceType.TOPIC, AclOperation.CREATE),
              allow(ResourceType.TOPIC, AclOperation.DELETE),
              allow(ResourceType.TOPIC, AclOperation.READ),
              allow(ResourceType.TOPIC, AclOperation.WRITE),
              allow(ResourceType.GROUP, AclOperation.READ),
              allow(ResourceType.GROUP, AclOperation.DELETE));
      kafka.admin().createAcls(documented).all().get(30, TimeUnit.SECONDS);

      Cli.Result ran = bench(db, config, jaas);

      assertThat(ran.exit()).as(ran.toString()).isZero();
      assertThat(ran.out()).contains("removed what it created");
      assertThat(kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS))
          .noneMatch(t -> t.startsWith("unpoll-bench-"));
    }
  }

  private static AclBinding allow(ResourceType type, AclOperation operation) {
    return new AclBinding(
        new ResourcePattern(type, "unpoll-bench-", PatternType.PREFIXED),
        new AccessControlEntry(
            "User:" + EmbeddedKafkaBroker.SASL_USER, "*", operation, AclPermissionType.ALLOW));
  }

  /**
   * unpoll.yaml for the bench: the database, and Kafka with SASL/PLAIN, the secret from KAFKA_JAAS.
   */
  private Path config(TestPostgres db, TestKafka kafka) throws Exception {
    Path config = dir.resolve("unpoll-" + db.database() + ".yaml");
    Files.writeString(
        config,
        """
        source:
          jdbc-url: %s
          user: %s
          password: ${PW}
        kafka:
          bootstrap-servers: %s
          properties:
            security.protocol: SASL_PLAINTEXT
            sasl.mechanism: PLAIN
            sasl.jaas.config: ${KAFKA_JAAS}
        """
            .formatted(db.jdbcUrl(), db.user(), kafka.bootstrapServers()));
    return config;
  }

  /**
   * A short {@code unpoll bench --config}, Kafka's {@code sasl.jaas.config} given as {@code jaas}.
   */
  private Cli.Result bench(TestPostgres db, Path config, String jaas) {
    return Cli.run(
        Map.of("PW", db.password(), "KAFKA_JAAS", jaas),
        "bench",
        "--config",
        config.toString(),
        "--rate",
        "50",
        "--seconds",
        "2",
        "--out",
        dir.resolve("out-" + System.nanoTime()).toString());
  }
}
