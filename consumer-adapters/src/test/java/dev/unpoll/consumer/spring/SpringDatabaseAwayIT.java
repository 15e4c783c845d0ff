package dev.unpoll.consumer.spring;

import static dev.unpoll.consumer.TestEvents.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.consumer.TestEvents;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.AbstractDataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.MessageListener;

/**
 * The consumer's own database away (a port nobody listens on: connection refused, SQLSTATE 08001)
 * longer than the retry budget: {@link SpringKafkaDefaults#errorHandler} keeps trying the record
 * instead of dead-lettering it, and applies it once the database is back. Before, the record went
 * to the dead-letter topic after {@code maxAttempts} and its effect never happened.
 */
@ExtendWith(UnpollStackExtension.class)
class SpringDatabaseAwayIT {

  /** A DataSource whose target the test switches: first nothing listening, then the database. */
  static final class Switchable extends AbstractDataSource {
    final AtomicReference<DataSource> target = new AtomicReference<>();
    final AtomicInteger connects = new AtomicInteger();

    @Override
    public Connection getConnection() throws SQLException {
      connects.incrementAndGet();
      return target.get().getConnection();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      return getConnection();
    }
  }

  @Test
  void aRecordFailingBecauseTheDatabaseIsAwayIsRetriedUntilItIsBackNotDeadLettered(
      TestPostgres server, TestKafka kafka) throws Exception {
    DataSource real = server.createDatabase("consumer_spring_away_it").dataSource();
    IdempotencyStore.defaults().createTablesIfAbsent(real);
    dev.unpoll.consumer.Db.exec(real, "CREATE TABLE effect (ce_id text)");
    String topic = kafka.createUniqueTopic("spring-away", 1);
    kafka.createTopic(topic + ".DLT", 1);

    PGSimpleDataSource nowhere = new PGSimpleDataSource();
    nowhere.setUrl("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2");
    Switchable ds = new Switchable();
    ds.target.set(nowhere);

    IdempotentConsumer consumer =
        IdempotentConsumer.builder().dataSource(ds).consumerGroup("spring-away").build();
    SpringIdempotentConsumer idempotent =
        new SpringIdempotentConsumer(consumer, new DataSourceTransactionManager(ds));
    JdbcTemplate jdbc = new JdbcTemplate(ds);
    RetryPolicy retry =
        RetryPolicy.builder()
            .maxAttempts(2)
            .initialBackoff(Duration.ofMillis(20))
            .maxBackoff(Duration.ofMillis(100))
            .jitter(Duration.ZERO)
            .build();
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "spring-away");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    ContainerProperties containerProps = new ContainerProperties(topic);
    containerProps.setMessageListener(
        (MessageListener<byte[], byte[]>)
            (ConsumerRecord<byte[], byte[]> record) ->
                idempotent.process(
                    record,
                    (e, c) ->
                        jdbc.update(
                            "INSERT INTO effect (ce_id) VALUES (?)",
                            e.header("ce_id").orElseThrow())));
    ConcurrentMessageListenerContainer<byte[], byte[]> container =
        new ConcurrentMessageListenerContainer<>(
            new DefaultKafkaConsumerFactory<>(props), containerProps);
    KafkaTemplate<byte[], byte[]> template =
        new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(kafka.producerConfig()));
    container.setCommonErrorHandler(SpringKafkaDefaults.errorHandler(template, consumer, retry));
    container.start();
    try {
      TestEvents.send(kafka, List.of(event(topic, "1", "away-1", "{\"id\":1}")));
      // far more tries than the budget of 2, all refused: the record is still not dead-lettered
      await().atMost(Duration.ofSeconds(60)).until(() -> ds.connects.get() >= 8);
      assertThat(TestEvents.endOffset(kafka, topic + ".DLT", 0)).isZero();

      ds.target.set(real); // the database is back
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  dev.unpoll.consumer.Db.count(
                          real, "SELECT count(*) FROM effect WHERE ce_id = 'away-1'")
                      == 1);
      assertThat(TestEvents.endOffset(kafka, topic + ".DLT", 0)).isZero();
    } finally {
      container.stop();
      template.destroy();
    }
  }
}
