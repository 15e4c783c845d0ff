package dev.unpoll.migration.internal;

import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.Progress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Kafka access for the CLI: reading topics without a consumer group, clear failures. */
public final class Kafka {
  /** How long the CLI waits for the broker before saying it cannot reach it. */
  public static final Duration TIMEOUT = Duration.ofSeconds(15);

  /**
   * How far before a window's start reading begins: record timestamps come from the relay's clock,
   * the window from the database's.
   */
  public static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

  private Kafka() {}

  static Map<String, Object> base(Settings s) {
    Map<String, Object> config = new HashMap<>(s.kafkaProperties());
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, s.requireKafka());
    config.put(CommonClientConfigs.CLIENT_ID_CONFIG, "unpoll-cli");
    config.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
    config.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
    return config;
  }

  /** A consumer without a group: partitions are assigned, offsets never committed. */
  public static KafkaConsumer<byte[], byte[]> consumer(Settings s) {
    Map<String, Object> config = base(s);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** The partitions of {@code topic}; a missing topic or unreachable broker is one clear line. */
  public static List<TopicPartition> partitions(Settings s, String topic) {
    return partitionsIfExists(s, topic)
        .orElseThrow(
            () ->
                new MigrationException(
                    "topic " + topic + " does not exist at " + s.kafkaBootstrap()));
  }

  /** The partitions of {@code topic}, empty when the topic does not exist. */
  public static java.util.Optional<List<TopicPartition>> partitionsIfExists(
      Settings s, String topic) {
    try (Admin admin = Admin.create(base(s))) {
      TopicDescription d =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .get(topic);
      List<TopicPartition> list = new ArrayList<>();
      d.partitions().forEach(p -> list.add(new TopicPartition(topic, p.partition())));
      return java.util.Optional.of(list);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return java.util.Optional.empty();
      }
      throw unreachable(s, e.getCause() == null ? e : e.getCause());
    } catch (TimeoutException e) {
      throw unreachable(s, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MigrationException("interrupted while describing topic " + topic, e);
    } catch (org.apache.kafka.common.KafkaException e) {
      throw unreachable(s, e);
    }
  }

  /**
   * Reads every record of {@code topic} from the beginning to the end offsets as of the call,
   * handing each to {@code sink}; returns the number read.
   */
  public static long readAll(
      Settings s, String topic, Consumer<ConsumerRecord<byte[], byte[]>> sink, Progress progress) {
    return readSince(s, topic, null, sink, progress);
  }

  /**
   * Like {@link #readAll}, but starting at the first record whose timestamp is at or after {@code
   * since} minus {@link #CLOCK_SKEW} in each partition ({@code null}: from the beginning). Returns
   * -1 when the topic does not exist.
   */
  public static long readSince(
      Settings s,
      String topic,
      java.time.Instant since,
      Consumer<ConsumerRecord<byte[], byte[]>> sink,
      Progress progress) {
    java.util.Optional<List<TopicPartition>> existing = partitionsIfExists(s, topic);
    if (existing.isEmpty()) {
      return -1;
    }
    List<TopicPartition> parts = existing.get();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(s)) {
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, TIMEOUT);
      if (since != null) {
        long at = since.minus(CLOCK_SKEW).toEpochMilli();
        Map<TopicPartition, Long> query = new HashMap<>();
        parts.forEach(tp -> query.put(tp, Math.max(0, at)));
        consumer
            .offsetsForTimes(query, TIMEOUT)
            .forEach(
                (tp, found) -> consumer.seek(tp, found == null ? end.get(tp) : found.offset()));
      }
      long total = 0;
      for (TopicPartition tp : parts) {
        total += Math.max(0, end.get(tp) - consumer.position(tp, TIMEOUT));
      }
      long read = 0;
      long idleSince = System.nanoTime();
      while (!done(consumer, end)) {
        var records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          if (System.nanoTime() - idleSince > TIMEOUT.toNanos()) {
            throw new MigrationException(
                "reading topic " + topic + " stalled at " + read + " of ~" + total + " records");
          }
          continue;
        }
        idleSince = System.nanoTime();
        for (ConsumerRecord<byte[], byte[]> r : records) {
          if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
            sink.accept(r);
            read++;
          }
        }
        progress.update("reading " + topic, read, total);
      }
      progress.done();
      return read;
    }
  }

  private static boolean done(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (c.position(e.getKey(), TIMEOUT) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** The number of brokers answering at the bootstrap servers, or a clear error. */
  public static int brokers(Settings s) {
    try (Admin admin = Admin.create(base(s))) {
      return admin.describeCluster().nodes().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).size();
    } catch (ExecutionException e) {
      throw unreachable(s, e.getCause() == null ? e : e.getCause());
    } catch (TimeoutException | org.apache.kafka.common.KafkaException e) {
      throw unreachable(s, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MigrationException("interrupted while contacting Kafka", e);
    }
  }

  /** A header's value as UTF-8 text, or null. */
  public static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    var h = r.headers().lastHeader(name);
    return h == null || h.value() == null
        ? null
        : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8);
  }

  static MigrationException unreachable(Settings s, Throwable cause) {
    String detail = Db.firstLine(String.valueOf(cause.getMessage()));
    if (cause instanceof org.apache.kafka.common.errors.AuthenticationException) {
      // the broker answered: it is the credentials or the TLS trust, not the address
      return new MigrationException(
          "Kafka at "
              + s.kafkaBootstrap()
              + " refused this client's authentication ("
              + detail
              + "): check kafka.properties (security.protocol, sasl.mechanism, sasl.jaas.config,"
              + " the TLS trust store)",
          cause);
    }
    if (cause instanceof org.apache.kafka.common.errors.AuthorizationException) {
      return new MigrationException(
          "Kafka at "
              + s.kafkaBootstrap()
              + " denied this client ("
              + detail
              + "): grant its principal the ACLs for what the command reads or writes"
              + " (docs/security.md, Kafka ACLs)",
          cause);
    }
    return new MigrationException(
        "cannot reach Kafka at "
            + s.kafkaBootstrap()
            + " within "
            + TIMEOUT.toSeconds()
            + " s: "
            + detail,
        cause);
  }
}
