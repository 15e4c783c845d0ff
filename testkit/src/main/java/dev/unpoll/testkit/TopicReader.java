package dev.unpoll.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a topic from the beginning of every partition, without a consumer group (nothing is
 * committed), and keeps everything it read: {@link #poll()} returns all records so far, so a test
 * can wait on it with Awaitility. Records of one partition keep their order.
 */
public final class TopicReader implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();

  /** Starts reading {@code topic} of {@code kafka} from the beginning. */
  public TopicReader(TestKafka kafka, String topic) {
    Map<String, Object> config = kafka.consumerConfig("unused");
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    consumer = new KafkaConsumer<>(config);
    Set<TopicPartition> partitions =
        consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
            .map(p -> new TopicPartition(p.topic(), p.partition()))
            .collect(Collectors.toSet());
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
  }

  /** Polls once (up to 200 ms) and returns every record read so far. */
  public List<ConsumerRecord<byte[], byte[]>> poll() {
    consumer.poll(Duration.ofMillis(200)).forEach(records::add);
    return List.copyOf(records);
  }

  /** Keeps polling for {@code quiet} to catch anything that arrives late (duplicates, extras). */
  public List<ConsumerRecord<byte[], byte[]>> settle(Duration quiet) {
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
