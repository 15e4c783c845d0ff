package dev.unpoll.testkit;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * How to reach a running Kafka broker, with helpers for topics and for reading what a test wrote.
 * Obtained from {@link UnpollStack#kafka()}.
 */
public final class TestKafka implements AutoCloseable {
  private final String bootstrapServers;
  private final Map<String, String> clientProperties;
  private Admin admin;

  TestKafka(String bootstrapServers) {
    this(bootstrapServers, Map.of());
  }

  TestKafka(String bootstrapServers, Map<String, String> clientProperties) {
    this.bootstrapServers = bootstrapServers;
    this.clientProperties = Map.copyOf(clientProperties);
  }

  /**
   * A broker this JVM did not start (one run as its own process, for fault tests that freeze or
   * stop it); its admin client is closed with this object.
   */
  public static TestKafka at(String bootstrapServers) {
    return new TestKafka(java.util.Objects.requireNonNull(bootstrapServers));
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /**
   * What every client of this broker needs besides its address (for a SASL broker, the mechanism
   * and a super user's credentials); empty for a plaintext broker. Every config and client this
   * object makes carries them.
   */
  public Map<String, String> clientProperties() {
    return clientProperties;
  }

  /** A shared admin client, closed with this object. */
  public synchronized Admin admin() {
    if (admin == null) {
      Map<String, Object> config = new HashMap<>(clientProperties);
      config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      admin = Admin.create(config);
    }
    return admin;
  }

  /** Creates a topic with replication factor 1; an existing topic is left as it is. */
  public void createTopic(String name, int partitions) {
    try {
      try {
        admin()
            .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
            .all()
            .get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException("cannot create topic " + name, e.getCause());
        }
      }
      awaitLeaders(name, partitions);
    } catch (ExecutionException e) {
      throw new IllegalStateException("topic " + name + " has no leader", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topic " + name, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("timed out creating topic " + name, e);
    }
  }

  /**
   * Returns once the leader of every partition serves requests. The controller answers the create
   * before the broker has applied its leadership; an idempotent producer that sends at once gets
   * NOT_LEADER_OR_FOLLOWER for its first batch while a later batch may land, and then retries the
   * first one with OUT_OF_ORDER_SEQUENCE_NUMBER until it times out. ListOffsets is answered by the
   * partition leader itself, and the admin client retries it until the leader is there.
   */
  private void awaitLeaders(String name, int partitions)
      throws ExecutionException, InterruptedException, TimeoutException {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      latest.put(new TopicPartition(name, p), OffsetSpec.latest());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        admin().listOffsets(latest).all().get(30, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        // the admin client's metadata may not know the new topic yet (UnknownTopicOrPartition)
        if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
          throw e;
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polling period
      }
    }
  }

  /** Creates a topic named {@code prefix-<random>} and returns its name. */
  public String createUniqueTopic(String prefix, int partitions) {
    String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    createTopic(name, partitions);
    return name;
  }

  /** Producer settings for byte[] keys and values, idempotent, acks=all. */
  public Map<String, Object> producerConfig() {
    Map<String, Object> config = new HashMap<>(clientProperties);
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    return config;
  }

  /** Consumer settings for byte[] keys and values, reading from the earliest offset. */
  public Map<String, Object> consumerConfig(String groupId) {
    Map<String, Object> config = new HashMap<>(clientProperties);
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return config;
  }

  public KafkaProducer<byte[], byte[]> newProducer() {
    return new KafkaProducer<>(producerConfig());
  }

  /**
   * Reads a topic from the beginning of every partition, without a consumer group, until at least
   * {@code atLeast} records have arrived or {@code timeout} passes, and returns what it read (the
   * caller asserts on it). Records of one partition keep their order.
   */
  public List<ConsumerRecord<byte[], byte[]>> readFromBeginning(
      String topic, int atLeast, Duration timeout) {
    try (TopicReader reader = new TopicReader(this, topic)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      List<ConsumerRecord<byte[], byte[]>> records = reader.poll();
      while (records.size() < atLeast && System.nanoTime() < deadline) {
        records = reader.poll();
      }
      return records;
    }
  }

  @Override
  public synchronized void close() {
    if (admin != null) {
      admin.close(Duration.ofSeconds(5));
      admin = null;
    }
  }

  @Override
  public String toString() {
    return "TestKafka[" + bootstrapServers + "]";
  }
}
