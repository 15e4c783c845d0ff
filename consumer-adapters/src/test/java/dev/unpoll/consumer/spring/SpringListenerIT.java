package dev.unpoll.consumer.spring;

import static dev.unpoll.consumer.TestEvents.event;
import static dev.unpoll.consumer.TestEvents.headerValue;
import static dev.unpoll.consumer.TestEvents.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.ConsumerMetrics;
import dev.unpoll.consumer.DeadLetterHeaders;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.NonRetryableException;
import dev.unpoll.consumer.Outcome;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.consumer.TestEvents;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;

@ExtendWith(UnpollStackExtension.class)
class SpringListenerIT {
  static DataSource ds;
  static TestKafka kafka;
  static String topic;
  static String auditTopic;
  static final String GROUP = "spring-orders";
  static final MeterRegistry REGISTRY = new SimpleMeterRegistry();
  static final Map<String, AtomicInteger> CALLS = new ConcurrentHashMap<>();
  static AnnotationConfigApplicationContext context;

  @BeforeAll
  static void start(TestPostgres server, TestKafka testKafka) {
    ds = server.createDatabase("consumer_spring_it").dataSource();
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    dev.unpoll.consumer.Db.exec(
        ds,
        "CREATE TABLE effect (grp text NOT NULL, ce_id text, value text)",
        "CREATE TABLE audit (ce_id text)");
    kafka = testKafka;
    topic = kafka.createUniqueTopic("spring-orders", 1);
    auditTopic = kafka.createUniqueTopic("spring-audited", 1);
    kafka.createTopic(topic + ".DLT", 1);
    context = new AnnotationConfigApplicationContext(Config.class);
  }

  @AfterAll
  static void stop() {
    if (context != null) {
      context.close();
    }
  }

  @Configuration
  @EnableKafka
  @EnableTransactionManagement
  static class Config {
    @Bean
    String auditTopicName() {
      return auditTopic;
    }

    @Bean
    AuditedListener auditedListener(SpringIdempotentConsumer idempotent, DataSource dataSource) {
      return new AuditedListener(idempotent, new JdbcTemplate(dataSource));
    }

    @Bean
    DataSource dataSource() {
      return ds;
    }

    @Bean
    String topicName() {
      return topic;
    }

    @Bean
    String groupName() {
      return GROUP;
    }

    @Bean
    DataSourceTransactionManager transactionManager(DataSource dataSource) {
      return new DataSourceTransactionManager(dataSource);
    }

    @Bean
    KafkaTemplate<byte[], byte[]> deadLetterTemplate() {
      return new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(kafka.producerConfig()));
    }

    // tag::spring-config[]
    @Bean
    IdempotentConsumer idempotentConsumer(DataSource dataSource) {
      return IdempotentConsumer.builder()
          .dataSource(dataSource)
          .consumerGroup(GROUP)
          .meterRegistry(REGISTRY)
          .build(); // no handler: each listener passes its own
    }

    @Bean
    SpringIdempotentConsumer springIdempotentConsumer(
        IdempotentConsumer consumer, DataSourceTransactionManager transactionManager) {
      return new SpringIdempotentConsumer(consumer, transactionManager);
    }

    @Bean
    ConcurrentKafkaListenerContainerFactory<byte[], byte[]> kafkaListenerContainerFactory(
        KafkaTemplate<byte[], byte[]> deadLetterTemplate, IdempotentConsumer consumer) {
      Map<String, Object> props = new HashMap<>();
      props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
      props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
      props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      RetryPolicy retry =
          RetryPolicy.builder()
              .maxAttempts(3)
              .initialBackoff(Duration.ofMillis(50))
              .jitter(Duration.ofMillis(10))
              .build();
      ConcurrentKafkaListenerContainerFactory<byte[], byte[]> factory =
          new ConcurrentKafkaListenerContainerFactory<>();
      factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(props));
      // no container transaction manager: SpringIdempotentConsumer opens (or joins, e.g. under
      // @Transactional) the DataSourceTransactionManager's transaction around the handler
      factory.setCommonErrorHandler(
          SpringKafkaDefaults.errorHandler(deadLetterTemplate, consumer, retry));
      return factory;
    }

    // end::spring-config[]

    @Bean
    OrderListener orderListener(SpringIdempotentConsumer idempotent, DataSource dataSource) {
      return new OrderListener(idempotent, new JdbcTemplate(dataSource));
    }
  }

  static class OrderListener {
    private final SpringIdempotentConsumer idempotent;
    private final JdbcTemplate jdbc;

    OrderListener(SpringIdempotentConsumer idempotent, JdbcTemplate jdbc) {
      this.idempotent = idempotent;
      this.jdbc = jdbc;
    }

    // tag::spring-listener[]
    @KafkaListener(id = "orders", topics = "#{@topicName}", groupId = "#{@groupName}")
    void on(ConsumerRecord<byte[], byte[]> record) {
      idempotent.process(
          record,
          (event, connection) -> {
            // JdbcTemplate joins the listener's transaction, which also records the key
            String ceId = event.header("ce_id").orElseThrow();
            jdbc.update(
                "INSERT INTO effect (grp, ce_id, value) VALUES (?, ?, ?)",
                GROUP,
                ceId,
                event.valueAsString());
            behave(ceId, event.valueAsString());
          });
    }

    // end::spring-listener[]

    static void behave(String ceId, String value) {
      int call = CALLS.computeIfAbsent(ceId, k -> new AtomicInteger()).incrementAndGet();
      if (value.contains("fail-once") && call == 1) {
        throw new IllegalStateException("transient failure of " + ceId);
      }
      if (value.contains("fail-always")) {
        throw new IllegalStateException("always failing " + ceId);
      }
      if (value.contains("non-retryable")) {
        throw new NonRetryableException("invalid order " + ceId);
      }
    }
  }

  /** A {@code @Transactional} listener: its own writes and the idempotent handler share one tx. */
  public static class AuditedListener {
    private final SpringIdempotentConsumer idempotent;
    private final JdbcTemplate jdbc;

    public AuditedListener(SpringIdempotentConsumer idempotent, JdbcTemplate jdbc) {
      this.idempotent = idempotent;
      this.jdbc = jdbc;
    }

    // tag::spring-transactional[]
    @Transactional
    @KafkaListener(id = "audited", topics = "#{@auditTopicName}", groupId = "spring-audited")
    public void on(ConsumerRecord<byte[], byte[]> record) {
      String ceId = TestEvents.headerValue(record.headers(), "ce_id");
      jdbc.update("INSERT INTO audit (ce_id) VALUES (?)", ceId); // the listener's transaction
      idempotent.process(
          record,
          (event, connection) -> {
            CALLS.computeIfAbsent(ceId, k -> new AtomicInteger()).incrementAndGet();
            jdbc.update(
                "INSERT INTO effect (grp, ce_id, value) VALUES (?, ?, ?)",
                GROUP,
                ceId,
                event.valueAsString());
          });
      failOnceAfterTheHandler(ceId); // e.g. a later step of the listener fails
    }

    // end::spring-transactional[]

    private static void failOnceAfterTheHandler(String ceId) {
      if (CALLS.computeIfAbsent("after:" + ceId, k -> new AtomicInteger()).incrementAndGet() == 1) {
        throw new IllegalStateException("listener failed after the handler for " + ceId);
      }
    }
  }

  private static long effects(String ceId) {
    return dev.unpoll.consumer.Db.count(
        ds, "SELECT count(*) FROM effect WHERE grp = ? AND ce_id = ?", GROUP, ceId);
  }

  private static int calls(String ceId) {
    AtomicInteger n = CALLS.get(ceId);
    return n == null ? 0 : n.get();
  }

  @Test
  void transactionalListenerMethodSharesItsTransactionWithTheIdempotentHandler() {
    TestEvents.send(kafka, List.of(event(auditTopic, "8", "s-audited", "{\"ok\":8}")));
    await().atMost(Duration.ofSeconds(30)).until(() -> calls("after:s-audited") == 2);
    await().atMost(Duration.ofSeconds(30)).until(() -> effects("s-audited") == 1);
    // the listener failed after the handler: the key went back with the listener's transaction,
    // so the redelivery ran the handler again (a separate transaction would have said DUPLICATE)
    assertThat(calls("s-audited")).isEqualTo(2);
    assertThat(
            dev.unpoll.consumer.Db.count(
                ds, "SELECT count(*) FROM audit WHERE ce_id = ?", "s-audited"))
        .isEqualTo(1);
  }

  @Test
  void duplicateDeliveryHasEffectOnce() {
    double duplicatesBefore = counter(ConsumerMetrics.DUPLICATES);
    TestEvents.send(
        kafka,
        List.of(
            event(topic, "1", "s-dup", "{\"ok\":1}"), event(topic, "1", "s-dup", "{\"ok\":1}")));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> counter(ConsumerMetrics.DUPLICATES) > duplicatesBefore);
    assertThat(effects("s-dup")).isEqualTo(1);
    assertThat(calls("s-dup")).isEqualTo(1);
  }

  @Test
  void keyRecordedBeforeRestartIsSkippedOnRedelivery() {
    // an earlier instance committed the effect and the key, then died before its offset commit
    var earlier = event(topic, "2", "s-restart", "{\"ok\":2}");
    ConsumerRecord<byte[], byte[]> asDelivered =
        new ConsumerRecord<>(topic, 0, 0L, earlier.key(), earlier.value());
    earlier.headers().forEach(h -> asDelivered.headers().add(h));
    SpringIdempotentConsumer idempotent = context.getBean(SpringIdempotentConsumer.class);
    JdbcTemplate jdbc = new JdbcTemplate(ds);
    assertThat(
            idempotent.process(
                asDelivered,
                (e, c) ->
                    jdbc.update(
                        "INSERT INTO effect (grp, ce_id, value) VALUES (?, ?, ?)",
                        GROUP,
                        "s-restart",
                        e.valueAsString())))
        .isEqualTo(Outcome.HANDLED);
    TestEvents.send(kafka, List.of(earlier, event(topic, "3", "s-after", "{\"ok\":3}")));
    await().atMost(Duration.ofSeconds(30)).until(() -> effects("s-after") == 1);
    assertThat(effects("s-restart")).isEqualTo(1);
    assertThat(calls("s-restart")).isZero();
  }

  @Test
  void transientFailureRollsBackListenerWorkAndIsRetried() {
    TestEvents.send(kafka, List.of(event(topic, "4", "s-transient", "{\"fail-once\":true}")));
    await().atMost(Duration.ofSeconds(30)).until(() -> calls("s-transient") == 2);
    await().atMost(Duration.ofSeconds(30)).until(() -> effects("s-transient") == 1);
    assertThat(counter(ConsumerMetrics.RETRIES)).isPositive();
  }

  @Test
  void alwaysFailingRecordIsDeadLetteredAfterMaxAttemptsAndPartitionMovesOn() {
    TestEvents.send(
        kafka,
        List.of(
            event(topic, "k5", "s-poison", "{\"fail-always\":true}"),
            event(topic, "6", "s-next", "{\"ok\":6}")));
    await().atMost(Duration.ofSeconds(30)).until(() -> effects("s-next") == 1);
    ConsumerRecord<byte[], byte[]> dlt = deadLetter("s-poison");
    assertThat(text(dlt.key())).isEqualTo("k5");
    assertThat(text(dlt.value())).isEqualTo("{\"fail-always\":true}");
    assertThat(headerValue(dlt.headers(), "ce_type")).isEqualTo("public.orders.inserted");
    assertThat(headerValue(dlt.headers(), DeadLetterHeaders.EXCEPTION_CLASS))
        .isEqualTo(IllegalStateException.class.getName());
    assertThat(headerValue(dlt.headers(), DeadLetterHeaders.EXCEPTION_MESSAGE))
        .isEqualTo("always failing s-poison");
    assertThat(headerValue(dlt.headers(), DeadLetterHeaders.ATTEMPTS)).isEqualTo("3");
    assertThat(headerValue(dlt.headers(), DeadLetterHeaders.ORIGINAL_TOPIC)).isEqualTo(topic);
    assertThat(headerValue(dlt.headers(), DeadLetterHeaders.CONSUMER_GROUP)).isEqualTo(GROUP);
    assertThat(calls("s-poison")).isEqualTo(3);
    assertThat(effects("s-poison")).isZero();
  }

  @Test
  void nonRetryableErrorIsDeadLetteredAtOnce() {
    TestEvents.send(kafka, List.of(event(topic, "7", "s-invalid", "{\"non-retryable\":true}")));
    ConsumerRecord<byte[], byte[]> dlt = deadLetter("s-invalid");
    assertThat(headerValue(dlt.headers(), DeadLetterHeaders.ATTEMPTS)).isEqualTo("1");
    assertThat(headerValue(dlt.headers(), DeadLetterHeaders.EXCEPTION_CLASS))
        .isEqualTo(NonRetryableException.class.getName());
    assertThat(calls("s-invalid")).isEqualTo(1);
    assertThat(counter(ConsumerMetrics.DEAD_LETTERED)).isPositive();
  }

  @Test
  void recordWithoutIdempotencyKeyIsDeadLetteredAtOnce() {
    TestEvents.send(kafka, List.of(event(topic, "no-key-9", null, "{\"ok\":9}")));
    ConsumerRecord<byte[], byte[]> dlt =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    kafka.readFromBeginning(topic + ".DLT", 1, Duration.ofSeconds(1)).stream()
                        .filter(r -> "no-key-9".equals(text(r.key())))
                        .findFirst()
                        .orElse(null),
                r -> r != null);
    assertThat(headerValue(dlt.headers(), DeadLetterHeaders.EXCEPTION_CLASS))
        .isEqualTo(dev.unpoll.consumer.MissingIdempotencyKeyException.class.getName());
    assertThat(headerValue(dlt.headers(), DeadLetterHeaders.ATTEMPTS)).isEqualTo("1");
  }

  private static ConsumerRecord<byte[], byte[]> deadLetter(String ceId) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                kafka.readFromBeginning(topic + ".DLT", 1, Duration.ofSeconds(1)).stream()
                    .filter(r -> ceId.equals(headerValue(r.headers(), "ce_id")))
                    .findFirst()
                    .orElse(null),
            r -> r != null);
  }

  private static double counter(String name) {
    return REGISTRY.find(name).counters().stream().mapToDouble(c -> c.count()).sum();
  }
}
