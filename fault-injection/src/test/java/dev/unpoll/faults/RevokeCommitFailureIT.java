package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.contract.Headers;
import dev.unpoll.testkit.ChildJvm;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner's commit inside {@code onPartitionsRevoked} fails with a retriable error (the broker
 * frozen with SIGSTOP while the revoke runs). The offsets it could not commit belong to partitions
 * it no longer owns: committing them later, after the new owner has moved on, would move the
 * group's offset back (duplicates for the whole gap at the next restart). The runner must drop them
 * with the partitions.
 *
 * <p>Made deterministic with the client's own state, no sleeps: the runner's handler holds the
 * record while a second member joins; the runner's heartbeats are counted (its JMX metric) until
 * one answered after the group began to rebalance; the broker is frozen, the handler let go; the
 * runner's revoke callback is seen to have returned (its latency metric); then the broker thaws.
 */
@ExtendWith(UnpollStackExtension.class)
class RevokeCommitFailureIT {
  private static final String GROUP = "revoke-commit";
  private static final String TOPIC = "revoke-commit";
  private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
  private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

  @Test
  void offsetsOfRevokedPartitionsAreDroppedWhenTheRevokeCommitFails(
      TestPostgres server, @TempDir Path dir) throws Exception {
    IdempotencyStore.builder().build().createTablesIfAbsent(server.dataSource());
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    IdempotentConsumer consumer =
        IdempotentConsumer.builder()
            .dataSource(server.dataSource())
            .consumerGroup(GROUP)
            .handler(
                (event, connection) -> {
                  if (event.valueAsString().contains("hold")) {
                    held.countDown();
                    try {
                      if (!release.await(5, TimeUnit.MINUTES)) {
                        throw new IllegalStateException("never released");
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                      throw new IllegalStateException(e);
                    }
                  }
                })
            .build();
    Path log = dir.resolve("broker.log");
    try (ChildJvm broker = BrokerMain.start(dir.resolve("kafka"), log);
        TestKafka kafka = TestKafka.at(BrokerMain.awaitBootstrap(log))) {
      kafka.createTopic(TOPIC, 2);
      try (KafkaProducer<byte[], byte[]> producer = kafka.newProducer();
          KafkaConsumerRunner runner =
              KafkaConsumerRunner.builder()
                  .bootstrapServers(kafka.bootstrapServers())
                  .topics(TOPIC)
                  .consumer(consumer)
                  // sorts after the second member: the range assignor gives that one partition 0
                  .kafkaProperty(ConsumerConfig.CLIENT_ID_CONFIG, "zz-runner")
                  .kafkaProperty(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 200)
                  // a commit against the frozen broker gives up after this (TimeoutException)
                  .kafkaProperty(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000)
                  // one poll spans the join and the wait for the marker record below
                  .pollTimeout(Duration.ofMinutes(2))
                  .build()
                  .start();
          Peer peer = new Peer(kafka)) {
        send(producer, 0, "e0", "{}");
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(kafka, P0) == 1);

        send(producer, 0, "e1", "{\"hold\":true}");
        assertThat(held.await(60, TimeUnit.SECONDS)).as("the handler holds e1").isTrue();
        peer.start();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> groupState(kafka) == GroupState.PREPARING_REBALANCE);
        // a heartbeat sent after the state changed has been answered: the runner knows it must
        // rejoin, and its next poll runs the revoke callback first
        double beats = heartbeats();
        await().atMost(Duration.ofSeconds(60)).until(() -> heartbeats() >= beats + 2);

        broker.freeze();
        try {
          release.countDown();
          // the runner handled e1 (done: p0 -> 2), its commit timed out, its poll revoked p0 and
          // p1 (the commit there timed out too)
          assertThat(revokeCallbackReturned()).as("no revoke before the freeze").isFalse();
          await()
              .atMost(Duration.ofSeconds(60))
              .until(RevokeCommitFailureIT::revokeCallbackReturned);
        } finally {
          broker.thaw();
        }

        // the peer owns p0 now; it reads and commits past the runner's stale offset
        await().atMost(Duration.ofSeconds(60)).until(() -> peer.assigned().contains(P0));
        send(producer, 0, "e2", "{}");
        send(producer, 0, "e3", "{}");
        await().atMost(Duration.ofSeconds(60)).until(() -> peer.position() == 4);
        peer.commit();
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(kafka, P0) == 4);

        // the runner owns p1; handling the marker commits what the runner holds as done
        send(producer, 1, "m", "{}");
        await().atMost(Duration.ofSeconds(60)).until(() -> committed(kafka, P1) == 1);
        assertThat(committed(kafka, P0))
            .as("the runner must not commit offsets of partition 0 after it was revoked")
            .isEqualTo(4);
      }
    }
  }

  private static void send(
      KafkaProducer<byte[], byte[]> producer, int partition, String id, String value)
      throws Exception {
    producer
        .send(
            new ProducerRecord<byte[], byte[]>(
                TOPIC,
                partition,
                (byte[]) null,
                value.getBytes(StandardCharsets.UTF_8),
                List.<org.apache.kafka.common.header.Header>of(
                    new RecordHeader(Headers.ID, id.getBytes(StandardCharsets.UTF_8)))))
        .get(60, TimeUnit.SECONDS);
  }

  private static long committed(TestKafka kafka, TopicPartition tp) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets =
        kafka
            .admin()
            .listConsumerGroupOffsets(GROUP)
            .partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS);
    OffsetAndMetadata o = offsets.get(tp);
    return o == null ? -1 : o.offset();
  }

  private static GroupState groupState(TestKafka kafka) throws Exception {
    return kafka
        .admin()
        .describeConsumerGroups(List.of(GROUP))
        .all()
        .get(30, TimeUnit.SECONDS)
        .get(GROUP)
        .groupState();
  }

  /** Heartbeat responses the runner's consumer has received. */
  private static double heartbeats() throws Exception {
    return coordinatorMetric("heartbeat-total");
  }

  /**
   * The runner's revoke callback has returned (the client times each call; no call, no time): it
   * ran its commit, which the frozen broker let time out, and chose what it keeps.
   */
  private static boolean revokeCallbackReturned() throws Exception {
    return coordinatorMetric("partition-revoked-latency-max") > 0;
  }

  /** A metric of the runner's consumer's group coordinator, read over JMX. */
  private static double coordinatorMetric(String name) throws Exception {
    return (double)
        ManagementFactory.getPlatformMBeanServer()
            .getAttribute(
                new ObjectName(
                    "kafka.consumer:type=consumer-coordinator-metrics,client-id=zz-runner-0"),
                name);
  }

  /** The second member of the group: joins, reads what it is given, commits when asked. */
  private static final class Peer implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> kafka;
    private final Thread thread;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicBoolean commit = new AtomicBoolean();
    private final AtomicLong position = new AtomicLong(-1);
    private final AtomicReference<List<TopicPartition>> assigned = new AtomicReference<>(List.of());

    Peer(TestKafka broker) {
      Map<String, Object> config = broker.consumerConfig(GROUP);
      config.put(ConsumerConfig.CLIENT_ID_CONFIG, "aa-peer");
      this.kafka = new KafkaConsumer<>(config);
      this.thread = new Thread(this::run, "revoke-commit-peer");
    }

    void start() {
      thread.start();
    }

    private void run() {
      kafka.subscribe(List.of(TOPIC));
      while (!stop.get()) {
        kafka.poll(Duration.ofMillis(100));
        assigned.set(new ArrayList<>(kafka.assignment()));
        if (kafka.assignment().contains(P0)) {
          position.set(kafka.position(P0));
          if (commit.getAndSet(false)) {
            kafka.commitSync(Map.of(P0, new OffsetAndMetadata(position.get())));
          }
        }
      }
      kafka.close();
    }

    List<TopicPartition> assigned() {
      return assigned.get();
    }

    long position() {
      return position.get();
    }

    void commit() {
      commit.set(true);
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      thread.join(30_000);
    }
  }
}
