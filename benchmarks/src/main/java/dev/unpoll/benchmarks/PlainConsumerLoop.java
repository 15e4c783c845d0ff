package dev.unpoll.benchmarks;

import dev.unpoll.consumer.EventHandler;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.InboundEvent;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * A hand-written consumer loop that mirrors the default path of {@code KafkaConsumerRunner}'s
 * worker, minus everything that only matters when something fails (retries, dead letters, rate
 * limit): poll, hand the batch to a {@link Processing} (one database transaction per poll batch, or
 * one per record), remember the offsets, {@code commitSync} them after the database commit, poll
 * again. One thread, one {@link KafkaConsumer}, the runner's consumer settings.
 *
 * <p>The baseline of the consumer benchmark, because {@code IdempotentConsumer} (and so the runner)
 * cannot run without its idempotency store. The same loop also runs the {@code IdempotentConsumer}
 * itself ({@link #idempotent}), which separates the cost of the idempotent consumer from the cost
 * of the runner around it.
 */
final class PlainConsumerLoop implements AutoCloseable {
  /** What the loop does with the records of one poll. */
  interface Processing {
    /** The records of one poll, in one transaction. */
    void batch(List<InboundEvent> events);

    /** One record in its own transaction. */
    void one(InboundEvent event);
  }

  private final KafkaConsumer<byte[], byte[]> kafka;
  private final String topic;
  private final Processing processing;
  private final boolean batchTransactions;
  private final Duration pollTimeout;
  private final Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
  private final Thread thread;
  private volatile boolean stopping;
  private volatile Throwable failure;

  PlainConsumerLoop(
      Map<String, Object> consumerConfig,
      String topic,
      Processing processing,
      boolean batchTransactions,
      Duration pollTimeout) {
    this.kafka = new KafkaConsumer<>(consumerConfig);
    this.topic = topic;
    this.processing = processing;
    this.batchTransactions = batchTransactions;
    this.pollTimeout = pollTimeout;
    this.thread = new Thread(this::run, "plain-consumer-" + topic);
  }

  /** The handler alone, in a transaction opened and committed like IdempotentConsumer does. */
  static Processing plain(DataSource dataSource, EventHandler handler) {
    return new Processing() {
      @Override
      public void batch(List<InboundEvent> events) {
        inTransaction(
            dataSource,
            c -> {
              for (InboundEvent e : events) {
                handler.handle(e, c);
              }
            });
      }

      @Override
      public void one(InboundEvent event) {
        inTransaction(dataSource, c -> handler.handle(event, c));
      }
    };
  }

  /** The idempotent consumer's own {@code processBatch} / {@code process}. */
  static Processing idempotent(IdempotentConsumer consumer) {
    return new Processing() {
      @Override
      public void batch(List<InboundEvent> events) {
        consumer.processBatch(events);
      }

      @Override
      public void one(InboundEvent event) {
        consumer.process(event);
      }
    };
  }

  PlainConsumerLoop start() {
    thread.start();
    return this;
  }

  /** The failure that stopped the loop, or null. */
  Throwable failure() {
    return failure;
  }

  boolean isRunning() {
    return thread.isAlive();
  }

  private void run() {
    try {
      kafka.subscribe(List.of(topic), new CommitOnRevoke());
      while (!stopping) {
        ConsumerRecords<byte[], byte[]> records = kafka.poll(pollTimeout);
        if (!records.isEmpty()) {
          handle(records);
        }
        commitDone();
      }
    } catch (WakeupException e) {
      if (!stopping) {
        failure = e;
      }
    } catch (RuntimeException | Error e) {
      failure = e;
    } finally {
      try {
        commitDone();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        }
      } finally {
        kafka.close(Duration.ofSeconds(10));
      }
    }
  }

  private void handle(ConsumerRecords<byte[], byte[]> records) {
    if (batchTransactions && records.count() > 1) {
      List<ConsumerRecord<byte[], byte[]>> ordered = new ArrayList<>(records.count());
      List<InboundEvent> events = new ArrayList<>(records.count());
      records.forEach(
          r -> {
            ordered.add(r);
            events.add(InboundEvent.of(r));
          });
      processing.batch(events);
      ordered.forEach(this::markDone);
    } else {
      for (TopicPartition tp : records.partitions()) {
        for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
          processing.one(InboundEvent.of(r));
          markDone(r);
        }
      }
    }
  }

  private void markDone(ConsumerRecord<byte[], byte[]> r) {
    done.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
  }

  private void commitDone() {
    if (!done.isEmpty()) {
      kafka.commitSync(done);
      done.clear();
    }
  }

  @Override
  public void close() {
    stopping = true;
    kafka.wakeup();
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      throw new IllegalStateException(thread.getName() + " did not stop within 30 s");
    }
  }

  @FunctionalInterface
  private interface TxWork {
    void run(Connection c) throws SQLException;
  }

  /** Begin, work, commit (rollback on failure), restore auto-commit: as IdempotentConsumer. */
  private static void inTransaction(DataSource dataSource, TxWork work) {
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        work.run(c);
        c.commit();
      } catch (SQLException | RuntimeException | Error e) {
        try {
          c.rollback();
        } catch (SQLException r) {
          e.addSuppressed(r);
        }
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("transaction failed: " + e.getMessage(), e);
    }
  }

  private final class CommitOnRevoke implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      commitDone();
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
  }
}
