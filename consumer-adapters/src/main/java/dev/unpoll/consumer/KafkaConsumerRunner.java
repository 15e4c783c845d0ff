package dev.unpoll.consumer;

import dev.unpoll.consumer.internal.DatabaseUnavailable;
import dev.unpoll.consumer.internal.DeadLetters;
import dev.unpoll.consumer.internal.RateLimiter;
import dev.unpoll.consumer.internal.Validation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A plain kafka-clients runner for services without Spring: {@code concurrency} threads, each with
 * its own {@link KafkaConsumer} in the group {@link IdempotentConsumer#consumerGroup()}, hand every
 * poll batch to an {@link IdempotentConsumer} and commit offsets only after the database commit.
 *
 * <ul>
 *   <li>Batch transactions (default on): a poll batch is handled in one database transaction; if it
 *       fails, its records are handled one by one, each in its own transaction, so one poison
 *       record does not poison its batch.
 *   <li>A failing record is retried per {@link RetryPolicy} (exponential backoff with jitter, on
 *       the consumer thread), then sent to the dead-letter topic ({@code <topic>.DLT} by default)
 *       with its original key, value and headers plus {@link DeadLetterHeaders}; then its offset is
 *       committed, so its partition moves on.
 *   <li>Batch wait (default off): with {@link Builder#batchWait(Duration)} the worker keeps polling
 *       for up to that long after the first records of a batch arrive, until it holds {@code
 *       max.poll.records} records, and handles them as one batch: fewer, larger database
 *       transactions when events trickle in, at the price of up to that much added latency.
 *   <li>A rebalance listener commits what is done before partitions are revoked.
 *   <li>{@link #close()} stops polling, lets the record in hand finish (a retry wait is cut short),
 *       commits what is done and closes the consumers.
 * </ul>
 */
public final class KafkaConsumerRunner implements AutoCloseable {
  /** Default number of consumer threads. */
  public static final int DEFAULT_CONCURRENCY = 1;

  /** Default poll timeout. */
  public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(500);

  /** Default time {@link #close()} waits for the threads. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  /** Default time to wait for the dead-letter topic's acknowledgement. */
  public static final Duration DEFAULT_DEAD_LETTER_TIMEOUT = Duration.ofSeconds(30);

  /** Default batch wait: none, every poll is handled as it comes. */
  public static final Duration DEFAULT_BATCH_WAIT = Duration.ZERO;

  /** Kafka's own default of {@code max.poll.records}. */
  private static final int KAFKA_DEFAULT_MAX_POLL_RECORDS = 500;

  /** Kafka's own default of {@code max.poll.interval.ms}. */
  private static final long KAFKA_DEFAULT_MAX_POLL_INTERVAL_MS = 300_000;

  private static final Logger LOG = LoggerFactory.getLogger(KafkaConsumerRunner.class);

  private final IdempotentConsumer consumer;
  private final List<String> topics;
  private final Map<String, Object> consumerConfig;
  private final Map<String, Object> producerConfig;
  private final int concurrency;
  private final RetryPolicy retry;
  private final Function<InboundEvent, String> deadLetterTopic;
  private final RateLimiter rateLimiter;
  private final boolean batchTransactions;
  private final Duration pollTimeout;
  private final Duration batchWait;
  private final boolean waits;
  private final int batchSize;
  private final Duration shutdownTimeout;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final List<Worker> workers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private KafkaProducer<byte[], byte[]> producer;
  private boolean started;

  private KafkaConsumerRunner(Builder b) {
    this.consumer = b.consumer;
    this.topics = List.copyOf(b.topics);
    this.concurrency = b.concurrency;
    this.retry = b.retryPolicy;
    this.deadLetterTopic = b.deadLetterEnabled ? b.deadLetterTopic : null;
    this.rateLimiter = b.rateLimit > 0 ? new RateLimiter(b.rateLimit) : null;
    this.batchTransactions = b.batchTransactions;
    this.pollTimeout = b.pollTimeout;
    this.batchWait = b.batchWait;
    this.waits = !b.batchWait.isZero();
    this.shutdownTimeout = b.shutdownTimeout;
    this.consumerConfig = new HashMap<>(b.kafkaProperties);
    consumerConfig.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
    consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, consumer.consumerGroup());
    consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerConfig.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    consumerConfig.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    consumerConfig.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    if (b.rateLimit > 0) {
      // small polls keep a rate-limited batch from arriving as one burst after a long wait
      consumerConfig.putIfAbsent(
          ConsumerConfig.MAX_POLL_RECORDS_CONFIG, (int) Math.max(1, Math.ceil(b.rateLimit / 10)));
    }
    this.batchSize = maxPollRecords(consumerConfig);
    this.producerConfig = new HashMap<>(b.producerProperties);
    producerConfig.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
    producerConfig.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    producerConfig.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    producerConfig.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    producerConfig.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
  }

  private static int maxPollRecords(Map<String, Object> config) {
    Object v = config.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG);
    return v == null ? KAFKA_DEFAULT_MAX_POLL_RECORDS : Integer.parseInt(Objects.toString(v));
  }

  /** A builder; bootstrap servers, topics and the idempotent consumer are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Starts the consumer threads. A runner starts once. */
  public synchronized KafkaConsumerRunner start() {
    if (started) {
      throw new ConsumerException(
          "runner of group " + consumer.consumerGroup() + " already started");
    }
    started = true;
    if (deadLetterTopic != null) {
      producer = new KafkaProducer<>(producerConfig);
    }
    for (int i = 0; i < concurrency; i++) {
      Map<String, Object> config = new HashMap<>(consumerConfig);
      Object clientId =
          config.getOrDefault(ConsumerConfig.CLIENT_ID_CONFIG, consumer.consumerGroup());
      config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-" + i);
      Worker w = new Worker(new KafkaConsumer<>(config));
      Thread t = new Thread(w, "unpoll-consumer-" + consumer.consumerGroup() + "-" + i);
      workers.add(w);
      threads.add(t);
      t.start();
    }
    LOG.info(
        "group {}: consuming {} with {} thread(s), {}",
        consumer.consumerGroup(),
        topics,
        concurrency,
        retry);
    return this;
  }

  /** True while at least one consumer thread runs. */
  public synchronized boolean isRunning() {
    return threads.stream().anyMatch(Thread::isAlive);
  }

  /** Stops polling, finishes the record in hand, commits what is done, closes the consumers. */
  @Override
  public synchronized void close() {
    stop.countDown();
    workers.forEach(w -> w.kafka.wakeup());
    long deadline = System.nanoTime() + shutdownTimeout.toNanos();
    for (Thread t : threads) {
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (t.isAlive()) {
        LOG.warn(
            "group {}: thread {} still running after {}",
            consumer.consumerGroup(),
            t.getName(),
            shutdownTimeout);
      }
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(10));
      producer = null;
    }
  }

  private boolean stopping() {
    return stop.getCount() == 0;
  }

  private final class Worker implements Runnable {
    final KafkaConsumer<byte[], byte[]> kafka;
    final Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();

    /** Records gathered during a batch wait, or null outside one. */
    Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> gathering;

    Worker(KafkaConsumer<byte[], byte[]> kafka) {
      this.kafka = kafka;
    }

    @Override
    public void run() {
      try {
        kafka.subscribe(topics, new CommitOnRevoke());
        while (!stopping()) {
          ConsumerRecords<byte[], byte[]> records = kafka.poll(pollTimeout);
          if (!records.isEmpty() && waits) {
            records = gather(records);
          }
          if (!records.isEmpty()) {
            handle(records);
          }
          commitDone();
        }
      } catch (WakeupException e) {
        if (!stopping()) {
          LOG.error("group {}: unexpected wakeup; thread stops", consumer.consumerGroup(), e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        LOG.error("group {}: consumer thread failed and stops", consumer.consumerGroup(), e);
      } finally {
        try {
          commitDone();
        } catch (RuntimeException e) {
          LOG.warn(
              "group {}: final offset commit failed: {}", consumer.consumerGroup(), e.toString());
        }
        kafka.close(CloseOptions.timeout(Duration.ofSeconds(10)));
      }
    }

    /**
     * Keeps polling for up to {@code batchWait} after {@code first} arrived, until the batch holds
     * {@code max.poll.records} records. Records of partitions revoked or lost meanwhile are dropped
     * unhandled (not committed: their next owner reads them). {@link #close()} cuts the wait short;
     * what was gathered is then handled like any poll's records (a single record is left for the
     * next start, as close() leaves any record it has not started). The last poll can overshoot
     * {@code max.poll.records}: a batch holds fewer than twice that many records.
     */
    private ConsumerRecords<byte[], byte[]> gather(ConsumerRecords<byte[], byte[]> first) {
      gathering = new LinkedHashMap<>();
      try {
        add(first);
        long deadline = System.nanoTime() + batchWait.toNanos();
        while (gatheredCount() < batchSize && !stopping()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          try {
            add(kafka.poll(Duration.ofNanos(left)));
          } catch (WakeupException e) {
            if (!stopping()) {
              throw e;
            }
          }
        }
        return new ConsumerRecords<>(gathering, Map.of());
      } finally {
        gathering = null;
      }
    }

    private void add(ConsumerRecords<byte[], byte[]> records) {
      for (TopicPartition tp : records.partitions()) {
        gathering.computeIfAbsent(tp, k -> new ArrayList<>()).addAll(records.records(tp));
      }
    }

    private int gatheredCount() {
      int n = 0;
      for (List<ConsumerRecord<byte[], byte[]>> rs : gathering.values()) {
        n += rs.size();
      }
      return n;
    }

    private void handle(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
      if (batchTransactions && records.count() > 1) {
        if (rateLimiter != null && !rateLimiter.acquire(records.count(), stop)) {
          rewind(records);
          return;
        }
        List<ConsumerRecord<byte[], byte[]>> ordered = new ArrayList<>(records.count());
        List<InboundEvent> events = new ArrayList<>(records.count());
        records.forEach(
            r -> {
              ordered.add(r);
              events.add(InboundEvent.of(r));
            });
        try {
          consumer.processBatch(events);
          ordered.forEach(this::markDone);
          return;
        } catch (BatchFailedException e) {
          // the failed record's first attempt was its try in the batch
          ConsumerRecord<byte[], byte[]> failed =
              e.failedIndex() >= 0 ? ordered.get(e.failedIndex()) : null;
          RuntimeException first = e.getCause() instanceof RuntimeException rt ? rt : e;
          LOG.info(
              "group {}: batch of {} records failed at {} ({}); handling them one by one",
              consumer.consumerGroup(),
              records.count(),
              failed == null
                  ? "?"
                  : failed.topic() + "-" + failed.partition() + "@" + failed.offset(),
              DeadLetters.explain(e).getClass().getName());
          oneByOne(records, false, failed, first);
        } catch (RuntimeException e) {
          LOG.info(
              "group {}: batch of {} records failed ({}); handling them one by one",
              consumer.consumerGroup(),
              records.count(),
              DeadLetters.explain(e).getClass().getName());
          oneByOne(records, false, null, null);
        }
      } else {
        oneByOne(records, rateLimiter != null, null, null);
      }
    }

    private void oneByOne(
        ConsumerRecords<byte[], byte[]> records,
        boolean limit,
        ConsumerRecord<byte[], byte[]> failedInBatch,
        RuntimeException batchFailure)
        throws InterruptedException {
      for (TopicPartition tp : records.partitions()) {
        for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
          boolean finished =
              !stopping()
                  && (!limit || rateLimiter.acquire(1, stop))
                  && processWithRetries(r, r == failedInBatch ? batchFailure : null);
          if (!finished) {
            // not done: the next poll (or the next owner of the partition) starts from it
            kafka.seek(tp, r.offset());
            break;
          }
          markDone(r);
        }
      }
    }

    private void rewind(ConsumerRecords<byte[], byte[]> records) {
      for (TopicPartition tp : records.partitions()) {
        kafka.seek(tp, records.records(tp).get(0).offset());
      }
    }

    /**
     * True when the record is finished (handled, skipped or dead-lettered).
     *
     * @param priorFailure the failure of a first attempt made in a batch, or null
     */
    private boolean processWithRetries(
        ConsumerRecord<byte[], byte[]> r, RuntimeException priorFailure)
        throws InterruptedException {
      InboundEvent event = InboundEvent.of(r);
      RuntimeException failure = priorFailure;
      int attempt = priorFailure == null ? 0 : 1;
      while (true) {
        if (failure != null) {
          boolean unavailable = DatabaseUnavailable.is(failure);
          if (unavailable && attempt >= retry.maxAttempts()) {
            // the database is away, not the event at fault: neither dead-lettered nor skipped;
            // the next poll starts from it again (polling keeps this consumer in its group)
            LOG.warn(
                "group {}: {} failed {} times because the database is unavailable ({}); not"
                    + " dead-lettered: trying it again",
                consumer.consumerGroup(),
                event.coordinates(),
                attempt,
                DeadLetters.explain(failure).getMessage());
            return false;
          }
          if (!unavailable && (!retry.isRetryable(failure) || attempt >= retry.maxAttempts())) {
            return deadLetter(r, event, failure, attempt);
          }
          consumer.recordRetry(r.topic());
          Duration wait = retry.backoff(attempt);
          LOG.info(
              "group {}: {} failed on attempt {} ({}); retrying in {} ms",
              consumer.consumerGroup(),
              event.coordinates(),
              attempt,
              DeadLetters.explain(failure).getClass().getName(),
              wait.toMillis());
          if (stop.await(wait.toNanos(), TimeUnit.NANOSECONDS)) {
            return false;
          }
        }
        attempt++;
        try {
          consumer.process(event);
          return true;
        } catch (RuntimeException e) {
          failure = e;
        }
      }
    }

    private boolean deadLetter(
        ConsumerRecord<byte[], byte[]> r,
        InboundEvent event,
        RuntimeException failure,
        int attempts)
        throws InterruptedException {
      if (deadLetterTopic == null
          && DeadLetters.explain(failure) instanceof ClaimNotDecidedException) {
        // Skipping a claim that could not decide would leave the row to nobody once the poller is
        // gone: with no dead-letter topic to park it in, the record is tried again later instead.
        LOG.warn(
            "group {}: {} could not be claimed after {} attempt(s) ({}); no dead-letter topic,"
                + " so it is not skipped: trying it again",
            consumer.consumerGroup(),
            event.coordinates(),
            attempts,
            ((ClaimNotDecidedException) DeadLetters.explain(failure)).reason());
        return false;
      }
      if (deadLetterTopic == null) {
        LOG.error(
            "group {}: {} failed after {} attempt(s); dead-letter topic disabled, record skipped",
            consumer.consumerGroup(),
            event.coordinates(),
            attempts,
            failure);
        return true;
      }
      String topic = deadLetterTopic.apply(event);
      List<Header> headers = new ArrayList<>();
      r.headers().forEach(headers::add);
      headers.addAll(
          DeadLetters.headers(
              consumer.consumerGroup(), r.topic(), r.partition(), r.offset(), failure, attempts));
      ProducerRecord<byte[], byte[]> dlt =
          new ProducerRecord<>(topic, null, r.key(), r.value(), headers);
      try {
        producer.send(dlt).get(DEFAULT_DEAD_LETTER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        LOG.error(
            "group {}: cannot dead-letter {} to {}; it will be tried again",
            consumer.consumerGroup(),
            event.coordinates(),
            topic,
            e);
        stop.await(retry.maxBackoff().toNanos(), TimeUnit.NANOSECONDS);
        return false;
      }
      consumer.recordDeadLetter(r.topic());
      LOG.warn(
          "group {}: {} dead-lettered to {} after {} attempt(s): {}",
          consumer.consumerGroup(),
          event.coordinates(),
          topic,
          attempts,
          DeadLetters.explain(failure).getClass().getName());
      return true;
    }

    private void markDone(ConsumerRecord<byte[], byte[]> r) {
      done.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
    }

    private void commitDone() {
      if (done.isEmpty()) {
        return;
      }
      try {
        kafka.commitSync(done);
        done.clear();
      } catch (CommitFailedException e) {
        // the partitions belong to another member now
        LOG.warn(
            "group {}: offset commit failed after a rebalance; the new owner re-reads and skips"
                + " duplicates",
            consumer.consumerGroup());
        done.clear();
      } catch (RebalanceInProgressException e) {
        // kept: the rebalance completes in the next poll, whose revoke callback commits them (or,
        // called from that callback, they go with the revoked partitions)
        LOG.debug("group {}: rebalance in progress; commit deferred", consumer.consumerGroup());
      } catch (RetriableException e) {
        LOG.warn(
            "group {}: offset commit failed ({}); retried after the next poll",
            consumer.consumerGroup(),
            e.toString());
      }
    }

    private final class CommitOnRevoke implements ConsumerRebalanceListener {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        commitDone();
        // what the commit could not store is not ours to store later: the partitions' next owner
        // may be past it by then, and a late commit would move the group's offset back
        List<TopicPartition> uncommitted = partitions.stream().filter(done::containsKey).toList();
        if (!uncommitted.isEmpty()) {
          LOG.warn(
              "group {}: offsets of revoked {} were not committed; the next owner reads again"
                  + " from the last committed offset and skips what was handled",
              consumer.consumerGroup(),
              uncommitted);
          done.keySet().removeAll(uncommitted);
        }
        forgetGathered(partitions);
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        LOG.info("group {}: assigned {}", consumer.consumerGroup(), partitions);
      }

      @Override
      public void onPartitionsLost(Collection<TopicPartition> partitions) {
        done.keySet().removeAll(partitions);
        forgetGathered(partitions);
      }

      private void forgetGathered(Collection<TopicPartition> partitions) {
        if (gathering != null) {
          // not handled, not committed: the partition's next owner reads them from its offset
          gathering.keySet().removeAll(partitions);
        }
      }
    }
  }

  /** Builds a {@link KafkaConsumerRunner}. */
  public static final class Builder {
    private String bootstrapServers;
    private final List<String> topics = new ArrayList<>();
    private IdempotentConsumer consumer;
    private int concurrency = DEFAULT_CONCURRENCY;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private boolean deadLetterEnabled = true;
    private Function<InboundEvent, String> deadLetterTopic =
        e -> e.topic() + DeadLetterHeaders.DEFAULT_TOPIC_SUFFIX;
    private double rateLimit;
    private boolean batchTransactions = true;
    private Duration pollTimeout = DEFAULT_POLL_TIMEOUT;
    private Duration batchWait = DEFAULT_BATCH_WAIT;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private final Map<String, Object> kafkaProperties = new LinkedHashMap<>();
    private final Map<String, Object> producerProperties = new LinkedHashMap<>();

    private Builder() {}

    /** Kafka's {@code bootstrap.servers}. Required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = bootstrapServers;
      return this;
    }

    /** Topics to subscribe to. At least one is required. */
    public Builder topics(String... topics) {
      this.topics.addAll(List.of(topics));
      return this;
    }

    /** The idempotent consumer that handles each event; its group is the Kafka group id. */
    public Builder consumer(IdempotentConsumer consumer) {
      this.consumer = consumer;
      return this;
    }

    /** Consumer threads, one {@link KafkaConsumer} each; default {@value #DEFAULT_CONCURRENCY}. */
    public Builder concurrency(int concurrency) {
      this.concurrency = concurrency;
      return this;
    }

    /** Retries and non-retryable classification; default {@link RetryPolicy#defaults()}. */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = retryPolicy;
      return this;
    }

    /** Picks the dead-letter topic of an event; default {@code <topic>.DLT}. */
    public Builder deadLetterTopic(Function<InboundEvent, String> deadLetterTopic) {
      this.deadLetterTopic = deadLetterTopic;
      return this;
    }

    /**
     * Turns the dead-letter topic off: a record that exhausts its retries is logged and skipped,
     * except a dual-run claim that could not decide ({@link ClaimNotDecidedException}), which is
     * tried again until it decides, since skipping it would leave its row handled by nobody.
     */
    public Builder withoutDeadLetterTopic() {
      this.deadLetterEnabled = false;
      return this;
    }

    /** At most this many events per second across the runner's threads; 0 (default) = no limit. */
    public Builder rateLimit(double eventsPerSecond) {
      this.rateLimit = eventsPerSecond;
      return this;
    }

    /** One database transaction per poll batch (default true) or one per record. */
    public Builder batchTransactions(boolean batchTransactions) {
      this.batchTransactions = batchTransactions;
      return this;
    }

    /** Poll timeout; default 500 ms. */
    public Builder pollTimeout(Duration pollTimeout) {
      this.pollTimeout = pollTimeout;
      return this;
    }

    /**
     * How long a worker may wait to gather a bigger batch: after a poll returns records, it keeps
     * polling until it holds {@code max.poll.records} records (Kafka's default 500) or this much
     * time has passed, then handles them in one transaction. Fewer transactions (and WAL flushes)
     * per event when events trickle in; each event may wait up to this much longer before it is
     * handled. Default {@link Duration#ZERO}: off, every poll is handled as it comes. Needs batch
     * transactions.
     */
    public Builder batchWait(Duration batchWait) {
      this.batchWait = batchWait;
      return this;
    }

    /** How long {@link #close()} waits for the threads; default 30 s. */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /**
     * A pass-through consumer property ({@code max.poll.records}, security settings...). Group id,
     * auto-commit and deserializers are the runner's own and rejected here.
     */
    public Builder kafkaProperty(String name, Object value) {
      kafkaProperties.put(name, value);
      return this;
    }

    /** A pass-through property of the dead-letter producer. */
    public Builder producerProperty(String name, Object value) {
      producerProperties.put(name, value);
      return this;
    }

    /** Validates every setting and reports all problems at once. */
    public KafkaConsumerRunner build() {
      List<String> problems = new ArrayList<>();
      if (bootstrapServers == null || bootstrapServers.isBlank()) {
        problems.add("bootstrapServers: missing, e.g. localhost:9092");
      }
      if (topics.isEmpty() || topics.stream().anyMatch(t -> t == null || t.isBlank())) {
        problems.add("topics: " + topics + " must name at least one topic, none blank");
      }
      if (consumer == null) {
        problems.add("consumer: missing; build one with IdempotentConsumer.builder()");
      } else if (!consumer.hasHandler()) {
        problems.add("consumer: has no handler; set IdempotentConsumer.builder().handler()");
      }
      if (concurrency < 1) {
        problems.add("concurrency: " + concurrency + " must be at least 1");
      }
      if (retryPolicy == null) {
        problems.add("retryPolicy: missing; use RetryPolicy.defaults()");
      }
      if (deadLetterEnabled && deadLetterTopic == null) {
        problems.add(
            "deadLetterTopic: missing; omit it for <topic>.DLT or use withoutDeadLetterTopic()");
      }
      if (rateLimit < 0 || Double.isNaN(rateLimit) || Double.isInfinite(rateLimit)) {
        problems.add(
            "rateLimit: " + rateLimit + " must be a positive number of events/s, or 0 for none");
      }
      if (pollTimeout == null || pollTimeout.isNegative() || pollTimeout.isZero()) {
        problems.add("pollTimeout: " + pollTimeout + " must be positive, e.g. PT0.5S");
      }
      if (batchWait == null || batchWait.isNegative()) {
        problems.add("batchWait: " + batchWait + " must be zero (off) or positive, e.g. PT0.02S");
      } else if (!batchWait.isZero() && !batchTransactions) {
        problems.add(
            "batchWait: "
                + batchWait
                + " gathers records into one transaction, which needs batchTransactions(true);"
                + " drop batchWait or turn batch transactions on");
      }
      Object maxPollRecords = kafkaProperties.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG);
      if (maxPollRecords != null) {
        try {
          Integer.parseInt(Objects.toString(maxPollRecords));
        } catch (NumberFormatException e) {
          problems.add("kafkaProperty max.poll.records: '" + maxPollRecords + "' is not a number");
        }
      }
      if (shutdownTimeout == null || shutdownTimeout.isNegative()) {
        problems.add(
            "shutdownTimeout: " + shutdownTimeout + " must be zero or positive, e.g. PT30S");
      }
      for (String owned :
          List.of(
              ConsumerConfig.GROUP_ID_CONFIG,
              ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
              ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
              ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
              ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
        if (kafkaProperties.containsKey(owned)) {
          problems.add(
              "kafkaProperty "
                  + owned
                  + ": set by the runner (group id = the consumer's group, manual commits, byte[]"
                  + " deserializers, bootstrapServers()); remove it");
        }
      }
      if (retryPolicy != null) {
        long maxPoll = KAFKA_DEFAULT_MAX_POLL_INTERVAL_MS;
        Object v = kafkaProperties.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
        if (v != null) {
          try {
            maxPoll = Long.parseLong(Objects.toString(v));
          } catch (NumberFormatException e) {
            problems.add("kafkaProperty max.poll.interval.ms: '" + v + "' is not a number");
          }
        }
        if (batchWait != null && batchWait.toMillis() >= maxPoll / 2) {
          problems.add(
              "batchWait: "
                  + batchWait
                  + " is more than half of max.poll.interval.ms ("
                  + maxPoll
                  + " ms); the group would evict the consumer while it gathers. Lower batchWait"
                  + " (a few to a few hundred milliseconds) or raise max.poll.interval.ms");
        }
        Duration worst = retryPolicy.worstCaseTotalBackoff();
        if (worst.toMillis() >= maxPoll / 2) {
          problems.add(
              "retryPolicy: retries of one record can wait up to "
                  + worst
                  + ", more than half of max.poll.interval.ms ("
                  + maxPoll
                  + " ms); the group would evict the consumer mid-retry. Lower maxAttempts or"
                  + " maxBackoff, or raise max.poll.interval.ms");
        }
      }
      Validation.throwIfAny("KafkaConsumerRunner", problems);
      return new KafkaConsumerRunner(this);
    }
  }
}
