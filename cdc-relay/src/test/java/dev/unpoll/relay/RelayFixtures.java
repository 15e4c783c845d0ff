package dev.unpoll.relay;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/** Shared helpers of the relay's integration tests. */
final class RelayFixtures {

  private RelayFixtures() {}

  /** The source and kafka sections for a test database, slot and publication named {@code slot}. */
  static String baseYaml(TestPostgres db, TestKafka kafka, String slot) {
    return """
        source:
          jdbc-url: %s
          user: %s
          password: ${TEST_DB_PASSWORD}
          slot: %s
          publication: %s
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
        """
        .formatted(db.jdbcUrl(), db.user(), slot, slot, kafka.bootstrapServers());
  }

  static Map<String, String> env(TestPostgres db) {
    return Map.of("TEST_DB_PASSWORD", db.password());
  }

  static RelayConfig config(TestPostgres db, String yaml) {
    return RelayConfig.parse(yaml, env(db));
  }

  static void sql(TestPostgres db, String... statements) {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String st : statements) {
        s.execute(st);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  static String key(ConsumerRecord<byte[], byte[]> r) {
    return new String(r.key(), StandardCharsets.UTF_8);
  }

  static String value(ConsumerRecord<byte[], byte[]> r) {
    return r.value() == null ? null : new String(r.value(), StandardCharsets.UTF_8);
  }

  /** Reads a topic from the beginning and keeps what it read; poll() returns everything so far. */
  static final class TopicReader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();

    TopicReader(TestKafka kafka, String topic) {
      Map<String, Object> config = new HashMap<>(kafka.consumerConfig("unused"));
      config.remove(ConsumerConfig.GROUP_ID_CONFIG);
      consumer = new KafkaConsumer<>(config);
      Set<TopicPartition> partitions =
          consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .collect(Collectors.toSet());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
    }

    List<ConsumerRecord<byte[], byte[]>> poll() {
      consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      return List.copyOf(records);
    }

    /** Keeps polling for {@code quiet} to catch anything that arrives late (duplicates, extras). */
    List<ConsumerRecord<byte[], byte[]>> settle(Duration quiet) {
      long end = System.nanoTime() + quiet.toNanos();
      while (System.nanoTime() < end) {
        poll();
      }
      return List.copyOf(records);
    }

    @Override
    public void close() {
      consumer.close();
    }
  }
}
