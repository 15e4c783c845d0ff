package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.consumer.NonRetryableException;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class DltCommandIT {
  static TestPostgres db;
  static DataSource ds;
  static TestKafka kafka;

  @BeforeAll
  static void setUp(TestPostgres server, TestKafka k) {
    db = server.createDatabase("cli_dlt_it");
    ds = db.dataSource();
    kafka = k;
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    Fixtures.sql(db, "CREATE TABLE effect (grp text NOT NULL, ce_id text NOT NULL)");
  }

  private static Cli.Result dlt(String... args) {
    return Cli.run(db, kafka, args);
  }

  /**
   * A consumer whose handler fails on marked records while {@code broken} is set: "poison" is an
   * IllegalStateException (retried, then dead-lettered), "invalid" is non-retryable.
   */
  private static KafkaConsumerRunner runner(String topic, String group, AtomicBoolean broken) {
    IdempotentConsumer consumer =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup(group)
            .handler(
                (e, c) -> {
                  if (broken.get() && e.valueAsString().contains("poison")) {
                    throw new IllegalStateException("cannot price order " + e.keyAsString());
                  }
                  if (broken.get() && e.valueAsString().contains("invalid")) {
                    throw new NonRetryableException("order " + e.keyAsString() + " invalid");
                  }
                  try (PreparedStatement ps =
                      c.prepareStatement("INSERT INTO effect (grp, ce_id) VALUES (?, ?)")) {
                    ps.setString(1, group);
                    ps.setString(2, e.header("ce_id").orElseThrow());
                    ps.executeUpdate();
                  }
                })
            .build();
    return KafkaConsumerRunner.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topic)
        .consumer(consumer)
        .pollTimeout(Duration.ofMillis(100))
        .retryPolicy(
            RetryPolicy.builder()
                .maxAttempts(2)
                .initialBackoff(Duration.ofMillis(20))
                .jitter(Duration.ofMillis(5))
                .build())
        .build();
  }

  private static void send(String topic, String key, String ceId, String value) {
    try (KafkaProducer<byte[], byte[]> p = kafka.newProducer()) {
      ProducerRecord<byte[], byte[]> r =
          new ProducerRecord<>(topic, null, Fixtures.bytes(key), Fixtures.bytes(value));
      r.headers()
          .add("ce_specversion", Fixtures.bytes("1.0"))
          .add("ce_id", Fixtures.bytes(ceId))
          .add("ce_source", Fixtures.bytes("/unpoll/shop/public.orders"))
          .add("ce_type", Fixtures.bytes("public.orders.inserted"))
          .add("content-type", Fixtures.bytes("application/json"));
      p.send(r).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static long effects(String group, String ceId) {
    return Fixtures.number(
        db, "SELECT count(*) FROM effect WHERE grp = '" + group + "' AND ce_id = '" + ceId + "'");
  }

  private static long committed(String group, String topic) throws Exception {
    OffsetAndMetadata o =
        kafka
            .admin()
            .listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS)
            .get(new TopicPartition(topic, 0));
    return o == null ? -1 : o.offset();
  }

  private static long endOffset(String topic) throws Exception {
    TopicPartition tp = new TopicPartition(topic, 0);
    return kafka
        .admin()
        .listOffsets(Map.of(tp, OffsetSpec.latest()))
        .partitionResult(tp)
        .get(30, TimeUnit.SECONDS)
        .offset();
  }

  @Test
  void deadLettersAreListedShownAndReplayedOnceTheHandlerIsFixed() throws Exception {
    String topic = kafka.createUniqueTopic("orders", 1);
    String dlt = topic + ".DLT";
    kafka.createTopic(dlt, 1);
    String group = "billing";
    AtomicBoolean broken = new AtomicBoolean(true);
    send(topic, "41", "public.orders:41", "{\"card\":\"4111-poison-41\"}");
    send(topic, "42", "public.orders:42", "{\"card\":\"4111-ok-42\"}");
    send(topic, "43", "public.orders:43", "{\"card\":\"4111-poison-43\"}");
    send(topic, "44", "public.orders:44", "{\"card\":\"4111-invalid-44\"}");

    try (KafkaConsumerRunner runner = runner(topic, group, broken).start()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> committed(group, topic) == 4);
      assertThat(endOffset(dlt)).isEqualTo(3);
      assertThat(effects(group, "public.orders:42")).isEqualTo(1);

      Cli.Result list = dlt("dlt", "list", "--topic", dlt);
      System.out.println("$ unpoll dlt list --topic " + dlt + "\n" + list.out());
      assertThat(list.exit()).as(list.toString()).isZero();
      assertThat(list.out())
          .contains(dlt + ": 3 dead letter(s)")
          .containsPattern("\\s2  java.lang.IllegalStateException .* billing +0:0 0:1")
          .containsPattern("\\s1  dev.unpoll.consumer.NonRetryableException .* billing +0:2")
          .doesNotContain("4111");

      JsonNode json = dlt("dlt", "list", "--topic", dlt, "--json").json();
      assertThat(json.get("selected").asLong()).isEqualTo(3);
      assertThat(json.at("/failures/0/exception").asText())
          .isEqualTo(IllegalStateException.class.getName());
      assertThat(json.at("/failures/0/count").asLong()).isEqualTo(2);
      assertThat(json.at("/failures/0/examples/1").asText()).isEqualTo("0:1");
      assertThat(json.at("/failures/0/topics/0").asText()).isEqualTo(topic);

      assertThat(dlt("dlt", "list", "--topic", dlt, "--key", "44").out())
          .contains("1 dead letter(s) (key 44)", "NonRetryableException")
          .doesNotContain("IllegalStateException");
      assertThat(dlt("dlt", "list", "--topic", dlt, "--group", "shipping").out())
          .contains("0 dead letter(s) (group shipping)");
      assertThat(dlt("dlt", "list", "--topic", dlt, "--group", group, "--since", "1h").out())
          .contains("3 dead letter(s)");
      String tomorrow = Instant.now().plus(Duration.ofDays(1)).toString();
      assertThat(dlt("dlt", "list", "--topic", dlt, "--since", tomorrow).out())
          .contains("0 dead letter(s) (since");

      Cli.Result show = dlt("dlt", "show", "--topic", dlt, "--offset", "0:1");
      System.out.println("$ unpoll dlt show --topic " + dlt + " --offset 0:1\n" + show.out());
      assertThat(show.exit()).as(show.toString()).isZero();
      assertThat(show.out())
          .contains(
              dlt + " 0:1",
              "key 43",
              "unpoll_dlt_exception_class: java.lang.IllegalStateException",
              "unpoll_dlt_exception_message: cannot price order 43",
              "unpoll_dlt_attempts: 2",
              "unpoll_dlt_original_topic: " + topic,
              "unpoll_dlt_original_offset: 2",
              "unpoll_dlt_consumer_group: billing",
              "ce_id: public.orders:43",
              "value: (hidden")
          .doesNotContain("4111");
      assertThat(dlt("dlt", "show", "--topic", dlt, "--offset", "0:1", "--payload").out())
          .contains("value: {\"card\":\"4111-poison-43\"}");
      JsonNode shown = dlt("dlt", "show", "--topic", dlt, "--offset", "0:1", "--json").json();
      assertThat(shown.at("/failureHeaders/unpoll_dlt_original_offset").asText()).isEqualTo("2");
      assertThat(shown.at("/headers/ce_id").asText()).isEqualTo("public.orders:43");
      assertThat(shown.has("value")).isFalse();

      broken.set(false); // the handler is fixed

      Cli.Result dry = dlt("dlt", "replay", "--topic", dlt, "--key", "41", "--dry-run");
      System.out.println(
          "$ unpoll dlt replay --topic " + dlt + " --key 41 --dry-run\n" + dry.out());
      assertThat(dry.exit()).as(dry.toString()).isZero();
      assertThat(dry.out())
          .contains("would replay " + dlt + ":0:0 -> " + topic + "  key 41")
          .contains("nothing was sent");
      assertThat(dry.err()).as("no progress bar when stderr is not a terminal").isEmpty();
      assertThat(endOffset(topic)).isEqualTo(4); // nothing sent
      assertThat(effects(group, "public.orders:41")).isZero();

      Cli.Result replay =
          Cli.runOnTerminal(db, kafka, "dlt", "replay", "--topic", dlt, "--key", "41");
      System.out.println("$ unpoll dlt replay --topic " + dlt + " --key 41\n" + replay.out());
      assertThat(replay.exit()).as(replay.toString()).isZero();
      assertThat(replay.out())
          .contains("replayed " + dlt + ":0:0 -> " + topic + "-0@4  key 41  ce_id public.orders:41")
          .contains("1 record(s) replayed");
      assertThat(replay.err())
          .as("on a terminal: a bar while reading the topic, then while sending, then cleared")
          .contains("reading " + dlt, "replaying 1 record(s) from " + dlt, "1/1")
          .endsWith("\r\033[K");
      await().atMost(Duration.ofSeconds(60)).until(() -> committed(group, topic) == 5);
      assertThat(effects(group, "public.orders:41")).isEqualTo(1);

      // the same dead letter again: the idempotency key holds
      Cli.Result again =
          Cli.runOnTerminal(
              db, kafka, "dlt", "replay", "--topic", dlt, "--offset", "0:0", "--json");
      System.out.println(
          "$ unpoll dlt replay --topic " + dlt + " --offset 0:0 --json\n" + again.out());
      assertThat(again.exit()).as(again.toString()).isZero();
      assertThat(again.err()).as("--json: no progress bar, even on a terminal").isEmpty();
      assertThat(again.json().size()).isEqualTo(1);
      assertThat(again.json().at("/0/from").asText()).isEqualTo(dlt + ":0:0");
      assertThat(again.json().at("/0/offset").asLong()).isEqualTo(5);
      assertThat(again.json().at("/0/ce_id").asText()).isEqualTo("public.orders:41");
      await().atMost(Duration.ofSeconds(60)).until(() -> committed(group, topic) == 6);
      assertThat(effects(group, "public.orders:41")).isEqualTo(1);
      assertThat(effects(group, "public.orders:43")).isZero();
    }
  }

  @Test
  void usageErrorsNameTheFix() {
    Cli.Result noTopic = dlt("dlt", "list");
    assertThat(noTopic.exit()).isEqualTo(2);
    assertThat(noTopic.err()).contains("Missing required option: '--topic=<topic.DLT>'");

    Cli.Result noSub = Cli.run(Map.of(), "dlt");
    assertThat(noSub.exit()).isEqualTo(2);
    assertThat(noSub.err()).contains("a subcommand is required: list, show or replay");

    Cli.Result missing = dlt("dlt", "list", "--topic", "nope.DLT");
    assertThat(missing.exit()).as(missing.toString()).isEqualTo(2);
    assertThat(missing.err())
        .contains("topic nope.DLT does not exist at " + kafka.bootstrapServers())
        .contains("check --topic")
        .doesNotContain("\tat ");

    Cli.Result since = dlt("dlt", "list", "--topic", "x.DLT", "--since", "yesterday");
    assertThat(since.exit()).isEqualTo(2);
    assertThat(since.err()).contains("'yesterday' is neither an ISO-8601 time", "(30m, 2h, 7d)");

    Cli.Result offset = dlt("dlt", "show", "--topic", "x.DLT", "--offset", "42");
    assertThat(offset.exit()).isEqualTo(2);
    assertThat(offset.err()).contains("use <partition>:<offset>, e.g. 0:42");

    Cli.Result noKafka = Cli.run(Map.of(), "dlt", "list", "--topic", "x.DLT");
    assertThat(noKafka.exit()).isEqualTo(2);
    assertThat(noKafka.err()).contains("no Kafka: pass --kafka");
  }

  @Test
  void showOfAPositionThatIsNotThereSaysWhereToLook() {
    String dlt = kafka.createUniqueTopic("empty", 1) + ".DLT";
    kafka.createTopic(dlt, 1);
    Cli.Result r = dlt("dlt", "show", "--topic", dlt, "--offset", "0:5");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("no record at 0:5 in " + dlt, "unpoll dlt list --topic " + dlt);
    assertThat(new String(r.out().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
        .isEmpty();
  }
}
