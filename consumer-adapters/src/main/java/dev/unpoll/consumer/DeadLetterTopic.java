package dev.unpoll.consumer;

import dev.unpoll.consumer.internal.Validation;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A dead-letter topic ({@code <topic>.DLT}) to inspect and replay. Every read is a snapshot: the
 * topic is read from its beginning to its end offsets as they were when the read started, through
 * assigned partitions, without a consumer group (nothing is committed, no group shows up on the
 * cluster).
 *
 * <ul>
 *   <li>{@link #read} hands every selected {@link DeadLetter} to a sink;
 *   <li>{@link #summarize} groups them by exception class;
 *   <li>{@link #find} reads one record by position;
 *   <li>{@link #replay} republishes the selected records to their original topic with their
 *       original key, value and headers, minus the failure headers, plus {@link
 *       DeadLetterHeaders#REPLAYED_FROM} and {@link DeadLetterHeaders#REPLAYED_AT}. The {@code
 *       ce_id} travels unchanged, so an idempotent consumer that already handled the event skips
 *       it, and replaying twice has one effect.
 * </ul>
 *
 * Payloads are never logged.
 */
public final class DeadLetterTopic {

  /** Default time to wait for the broker on each request. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

  /** How many example positions a {@link DeadLetterSummary} keeps. */
  public static final int EXAMPLES = 3;

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterTopic.class);

  private final String topic;
  private final String bootstrapServers;
  private final Map<String, Object> kafkaProperties;
  private final Duration timeout;
  private final Clock clock;

  private DeadLetterTopic(Builder b) {
    this.topic = b.topic;
    this.bootstrapServers = b.bootstrapServers;
    this.kafkaProperties = Map.copyOf(b.kafkaProperties);
    this.timeout = b.timeout;
    this.clock = b.clock;
  }

  /** A builder; bootstrap servers and the topic are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The dead-letter topic's name. */
  public String topic() {
    return topic;
  }

  /**
   * Where {@link #replay(DeadLetterFilter, boolean, Progress)} reports how far it is: first the
   * records read from the dead-letter topic, then the sends acknowledged. Called on the calling
   * thread; a command line draws a progress bar from it.
   */
  @FunctionalInterface
  public interface Progress {
    /** No reporting. */
    Progress NONE = (what, done, total) -> {};

    /**
     * {@code done} of {@code total} units of the work named {@code what} ({@code "reading
     * orders.DLT"}, {@code "replaying to orders"}); {@code total} is an upper bound while reading
     * (transaction markers take offsets too) and exact while sending.
     */
    void update(String what, long done, long total);
  }

  /**
   * Reads the topic from its beginning to its end offsets as of this call and hands each record
   * {@code filter} selects to {@code sink}, partition by partition in offset order. Returns how
   * many records were read (selected or not).
   *
   * @throws TopicNotFoundException when the topic does not exist
   * @throws ConsumerException when the broker cannot be reached or reading stalls
   */
  public long read(DeadLetterFilter filter, Consumer<DeadLetter> sink) {
    return read(filter, sink, Progress.NONE);
  }

  private long read(DeadLetterFilter filter, Consumer<DeadLetter> sink, Progress progress) {
    List<TopicPartition> parts = partitions();
    try (KafkaConsumer<byte[], byte[]> consumer = newConsumer()) {
      consumer.assign(parts);
      Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(parts, timeout));
      Map<TopicPartition, Long> start = consumer.beginningOffsets(parts, timeout);
      Set<Integer> wanted = new TreeSet<>();
      filter.positions().forEach(p -> wanted.add(p.partition()));
      List<TopicPartition> toRead = new ArrayList<>();
      for (TopicPartition tp : parts) {
        if (!wanted.isEmpty() && !wanted.contains(tp.partition())) {
          end.put(tp, start.get(tp)); // nothing to read there
          continue;
        }
        long from = start.get(tp);
        if (!wanted.isEmpty()) {
          // only the span between the first and the last position asked for in this partition
          var offsets =
              filter.positions().stream()
                  .filter(p -> p.partition() == tp.partition())
                  .mapToLong(DeadLetterFilter.Position::offset)
                  .summaryStatistics();
          from = Math.max(from, offsets.getMin());
          end.put(tp, Math.min(end.get(tp), offsets.getMax() + 1));
        }
        if (from < end.get(tp)) {
          consumer.seek(tp, from);
          toRead.add(tp);
        }
      }
      consumer.assign(toRead);
      long span = 0;
      for (TopicPartition tp : toRead) {
        span += end.get(tp) - consumer.position(tp, timeout);
      }
      String what = "reading " + topic;
      long read = 0;
      progress.update(what, 0, span);
      long idleSince = System.nanoTime();
      while (!reachedEnd(consumer, toRead, end)) {
        var records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          if (System.nanoTime() - idleSince > timeout.toNanos()) {
            throw new ConsumerException(
                "reading " + topic + " stalled after " + read + " records for " + timeout);
          }
          continue;
        }
        idleSince = System.nanoTime();
        for (ConsumerRecord<byte[], byte[]> r : records) {
          if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
            continue;
          }
          read++;
          DeadLetter d = DeadLetter.of(r);
          if (filter.matches(d)) {
            sink.accept(d);
          }
        }
        progress.update(what, read, span);
      }
      return read;
    } catch (KafkaException e) {
      throw unreachable(e);
    }
  }

  /** The records {@code filter} selects, in partition and offset order. */
  public List<DeadLetter> list(DeadLetterFilter filter) {
    List<DeadLetter> all = new ArrayList<>();
    read(filter, all::add);
    return all;
  }

  /** The record at {@code partition:offset}, empty when there is none (anymore). */
  public Optional<DeadLetter> find(DeadLetterFilter.Position position) {
    List<DeadLetter> found = list(DeadLetterFilter.all().withPosition(position));
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  /**
   * The selected records grouped by exception class, the largest group first (ties by name).
   *
   * @return one summary per exception class
   */
  public List<DeadLetterSummary> summarize(DeadLetterFilter filter) {
    Map<String, Acc> groups = new LinkedHashMap<>();
    read(filter, d -> groups.computeIfAbsent(d.exceptionClass(), k -> new Acc()).add(d));
    List<DeadLetterSummary> out = new ArrayList<>();
    groups.forEach(
        (cls, a) ->
            out.add(
                new DeadLetterSummary(
                    cls, a.count, a.first, a.last, a.groups, a.topics, a.examples)));
    out.sort(
        (x, y) ->
            x.count() != y.count()
                ? Long.compare(y.count(), x.count())
                : x.exceptionClass().compareTo(y.exceptionClass()));
    return out;
  }

  private static final class Acc {
    long count;
    Instant first;
    Instant last;
    final Set<String> groups = new LinkedHashSet<>();
    final Set<String> topics = new LinkedHashSet<>();
    final List<String> examples = new ArrayList<>();

    void add(DeadLetter d) {
      count++;
      first = first == null || d.time().isBefore(first) ? d.time() : first;
      last = last == null || d.time().isAfter(last) ? d.time() : last;
      d.consumerGroup().ifPresent(groups::add);
      d.originalTopic().ifPresent(topics::add);
      if (examples.size() < EXAMPLES) {
        examples.add(d.position());
      }
    }
  }

  /**
   * Republishes every record {@code filter} selects to its original topic ({@link
   * DeadLetter#originalTopic()}) with its original key, value and headers, without the failure
   * headers or an earlier replay's marker, plus {@link DeadLetterHeaders#REPLAYED_FROM} and {@link
   * DeadLetterHeaders#REPLAYED_AT}. The producer is idempotent with {@code acks=all}; each send is
   * acknowledged before this returns. The partition is the producer's choice from the key, as for
   * the original record.
   *
   * <p>Nothing is sent unless every selected record names its original topic. With {@code dryRun},
   * nothing is sent at all and the result says what would have been.
   *
   * @return what was sent (or would have been), in the order sent
   * @throws ConsumerException when a record has no original topic, or a send fails (the records
   *     before it were sent; the message says how many)
   */
  public List<DeadLetterReplay> replay(DeadLetterFilter filter, boolean dryRun) {
    return replay(filter, dryRun, Progress.NONE);
  }

  /**
   * Like {@link #replay(DeadLetterFilter, boolean)}, reporting to {@code progress} the records read
   * and then the sends acknowledged.
   */
  public List<DeadLetterReplay> replay(DeadLetterFilter filter, boolean dryRun, Progress progress) {
    List<DeadLetter> selected = new ArrayList<>();
    read(filter, selected::add, progress);
    List<String> problems = new ArrayList<>();
    for (DeadLetter d : selected) {
      if (d.originalTopic().isEmpty()) {
        problems.add(
            d.position()
                + ": no "
                + DeadLetterHeaders.ORIGINAL_TOPIC
                + " header; it was not written by a dead-letter publisher unpoll knows");
      }
    }
    if (!problems.isEmpty()) {
      throw new ConsumerException(
          "cannot replay from "
              + topic
              + ", nothing was sent:\n  - "
              + String.join("\n  - ", problems)
              + "\nselect other records with --offset, --group, --key or --since");
    }
    if (dryRun) {
      List<DeadLetterReplay> would = new ArrayList<>();
      for (DeadLetter d : selected) {
        would.add(replayOf(d, d.originalTopic().orElseThrow(), -1, -1, true));
      }
      return would;
    }
    List<DeadLetterReplay> sent = new ArrayList<>();
    if (selected.isEmpty()) {
      return sent;
    }
    String at = clock.instant().toString();
    String what = "replaying " + selected.size() + " record(s) from " + topic;
    progress.update(what, 0, selected.size());
    try (KafkaProducer<byte[], byte[]> producer = newProducer()) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      for (DeadLetter d : selected) {
        acks.add(producer.send(replayRecord(d, at)));
      }
      for (int i = 0; i < selected.size(); i++) {
        DeadLetter d = selected.get(i);
        RecordMetadata m;
        try {
          m = acks.get(i).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
          Throwable cause = e.getCause() == null ? e : e.getCause();
          throw new ConsumerException(
              "replay of "
                  + topic
                  + ":"
                  + d.position()
                  + " to "
                  + d.originalTopic().orElseThrow()
                  + " failed after "
                  + sent.size()
                  + " of "
                  + selected.size()
                  + " record(s) were acknowledged: "
                  + cause.getMessage()
                  + "; replaying again is safe (the idempotency key holds)",
              cause);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new ConsumerException("interrupted while replaying " + topic, e);
        }
        sent.add(replayOf(d, m.topic(), m.partition(), m.offset(), false));
        progress.update(what, sent.size(), selected.size());
        LOG.info(
            "replayed {}-{}@{} to {}-{}@{}",
            topic,
            d.partition(),
            d.offset(),
            m.topic(),
            m.partition(),
            m.offset());
      }
    } catch (KafkaException e) {
      throw unreachable(e);
    }
    return sent;
  }

  private ProducerRecord<byte[], byte[]> replayRecord(DeadLetter d, String at) {
    List<Header> headers = new ArrayList<>();
    for (Header h : d.originalHeaders()) {
      if (!h.key().equals(DeadLetterHeaders.REPLAYED_FROM)
          && !h.key().equals(DeadLetterHeaders.REPLAYED_AT)) {
        headers.add(h);
      }
    }
    headers.add(text(DeadLetterHeaders.REPLAYED_FROM, topic + ":" + d.position()));
    headers.add(text(DeadLetterHeaders.REPLAYED_AT, at));
    return new ProducerRecord<>(d.originalTopic().orElseThrow(), null, d.key(), d.value(), headers);
  }

  private DeadLetterReplay replayOf(
      DeadLetter d, String to, int partition, long offset, boolean dryRun) {
    return new DeadLetterReplay(
        topic + ":" + d.position(),
        to,
        partition,
        offset,
        d.keyAsString(),
        d.idempotencyKey().orElse(null),
        dryRun);
  }

  private static Header text(String name, String value) {
    return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
  }

  private boolean reachedEnd(
      KafkaConsumer<byte[], byte[]> c, List<TopicPartition> parts, Map<TopicPartition, Long> end) {
    for (TopicPartition tp : parts) {
      if (c.position(tp, timeout) < end.get(tp)) {
        return false;
      }
    }
    return true;
  }

  private List<TopicPartition> partitions() {
    try (Admin admin = Admin.create(base())) {
      TopicDescription d =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .get(topic);
      List<TopicPartition> list = new ArrayList<>();
      d.partitions().forEach(p -> list.add(new TopicPartition(topic, p.partition())));
      return list;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        throw new TopicNotFoundException(
            topic,
            "topic "
                + topic
                + " does not exist at "
                + bootstrapServers
                + "; a consumer's dead-letter topic is <its topic>"
                + DeadLetterHeaders.DEFAULT_TOPIC_SUFFIX
                + " and exists once a record was dead-lettered (or it was created)");
      }
      throw unreachable(e.getCause() == null ? e : e.getCause());
    } catch (TimeoutException | KafkaException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConsumerException("interrupted while describing topic " + topic, e);
    }
  }

  private ConsumerException unreachable(Throwable cause) {
    return new ConsumerException(
        "cannot read "
            + topic
            + " at "
            + bootstrapServers
            + " within "
            + timeout.toSeconds()
            + " s: "
            + cause.getMessage(),
        cause);
  }

  private Map<String, Object> base() {
    Map<String, Object> config = new HashMap<>(kafkaProperties);
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.putIfAbsent(CommonClientConfigs.CLIENT_ID_CONFIG, "unpoll-dlt");
    config.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    config.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    return config;
  }

  private KafkaConsumer<byte[], byte[]> newConsumer() {
    Map<String, Object> config = base();
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private KafkaProducer<byte[], byte[]> newProducer() {
    Map<String, Object> config = base();
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis() * 2);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    // a topic that is gone fails the replay within the timeout instead of blocking for a minute
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
    return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** Builds a {@link DeadLetterTopic}. */
  public static final class Builder {
    private String bootstrapServers;
    private String topic;
    private final Map<String, Object> kafkaProperties = new LinkedHashMap<>();
    private Duration timeout = DEFAULT_TIMEOUT;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** Kafka's {@code bootstrap.servers}. Required. */
    public Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = bootstrapServers;
      return this;
    }

    /** The dead-letter topic, e.g. {@code orders.DLT}. Required. */
    public Builder topic(String topic) {
      this.topic = topic;
      return this;
    }

    /** A pass-through client property (TLS, SASL...), for the reader and the replay producer. */
    public Builder kafkaProperty(String name, Object value) {
      kafkaProperties.put(name, value);
      return this;
    }

    /** Pass-through client properties, as {@link #kafkaProperty}. */
    public Builder kafkaProperties(Map<String, ?> properties) {
      kafkaProperties.putAll(properties);
      return this;
    }

    /** How long to wait for the broker on each request; default 15 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** The clock of {@link DeadLetterHeaders#REPLAYED_AT}; default the system's, UTC. */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /** Validates every setting and reports all problems at once. */
    public DeadLetterTopic build() {
      List<String> problems = new ArrayList<>();
      if (bootstrapServers == null || bootstrapServers.isBlank()) {
        problems.add("bootstrapServers: missing, e.g. localhost:9092");
      }
      if (topic == null || topic.isBlank()) {
        problems.add("topic: missing; name the dead-letter topic, e.g. orders.DLT");
      }
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        problems.add("timeout: " + timeout + " must be positive, e.g. PT15S");
      }
      if (clock == null) {
        problems.add("clock: missing; use Clock.systemUTC()");
      }
      for (String owned :
          List.of(
              CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
              ConsumerConfig.GROUP_ID_CONFIG,
              ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG)) {
        if (kafkaProperties.containsKey(owned)) {
          problems.add(
              "kafkaProperty "
                  + owned
                  + ": set by the dead-letter reader (bootstrapServers(), no group, no"
                  + " commits); remove it");
        }
      }
      Validation.throwIfAny("DeadLetterTopic", problems);
      return new DeadLetterTopic(this);
    }
  }
}
