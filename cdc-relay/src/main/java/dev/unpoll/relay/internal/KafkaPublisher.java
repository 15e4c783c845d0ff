package dev.unpoll.relay.internal;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.mapping.EventMapper;
import dev.unpoll.mapping.MappingException;
import dev.unpoll.relay.RelayException;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium change consumer: maps each batch, sends every record without waiting, then waits once
 * for all acknowledgements and only then marks the batch's records processed. At-least-once, in
 * order per key (idempotent producer, one partition per key).
 */
public final class KafkaPublisher
    implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>>, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaPublisher.class);

  /** Producer settings the relay always sets (the config rejects values that weaken them). */
  public static final Map<String, String> FIXED =
      Map.of(ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");

  /** Producer defaults the user may override in kafka.properties. */
  public static final Map<String, String> DEFAULTS =
      Map.of(
          ProducerConfig.LINGER_MS_CONFIG, "1",
          ProducerConfig.BATCH_SIZE_CONFIG, "65536",
          ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
          ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000",
          ProducerConfig.CLIENT_ID_CONFIG, "unpoll-relay",
          ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");

  /**
   * How long past {@code delivery.timeout.ms} the relay waits for a batch's acknowledgements before
   * it gives up and stops (the producer does not always expire records while it cannot reach any
   * broker).
   */
  static final long ACK_GRACE_MS = 5000;

  private final long ackTimeoutNanos;
  private final KafkaProducer<byte[], byte[]> producer;
  private final EventMapper mapper;
  private final MeterRegistry registry;
  private final Timer latency;
  private final Consumer<String> ackedLsn;
  private final BooleanSupplier snapshotAcknowledged;
  private final Consumer<List<SourceRecord>> afterBatch;
  private final SnapshotProgress snapshot = new SnapshotProgress();
  private final List<RecordChangeEvent<SourceRecord>> held = new ArrayList<>();
  private final Object heldMonitor = new Object();
  private long acknowledged;
  private long marked;
  private boolean snapshotRecorded;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  /**
   * A publisher for {@code config}, recording to {@code registry}, reporting acked LSNs to {@code
   * ackedLsn}. {@code snapshotAcknowledged} is called after the first acknowledged batch that
   * completes the snapshot (its last record, or a change streamed after a snapshot record of this
   * run; see {@link SnapshotProgress}), so every snapshot record is acknowledged, and again after
   * later batches until it returns true (it records the backlog as done). Changes streamed before
   * the snapshot (catch-up from stored offsets) never count. {@code afterBatch}, if not null, sees
   * each batch once it is acknowledged and marked (tests stop the relay there).
   */
  public KafkaPublisher(
      UnpollConfig config,
      MeterRegistry registry,
      Consumer<String> ackedLsn,
      BooleanSupplier snapshotAcknowledged,
      Consumer<List<SourceRecord>> afterBatch) {
    Map<String, Object> props = new HashMap<>(DEFAULTS);
    props.putAll(config.kafka().properties());
    props.putAll(FIXED);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    this.ackTimeoutNanos =
        TimeUnit.MILLISECONDS.toNanos(
            Long.parseLong(String.valueOf(props.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)))
                + ACK_GRACE_MS);
    this.producer = new KafkaProducer<>(props);
    this.mapper = new EventMapper(config);
    this.registry = registry;
    this.ackedLsn = ackedLsn;
    this.snapshotAcknowledged = snapshotAcknowledged;
    this.afterBatch = afterBatch;
    this.latency =
        Timer.builder("unpoll.relay.latency")
            .description("source commit to Kafka acknowledgement")
            .publishPercentileHistogram()
            .register(registry);
  }

  @Override
  public void handleBatch(
      List<RecordChangeEvent<SourceRecord>> records,
      DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
      throws InterruptedException {
    List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
    List<EventMapper.Mapped> mapped = new ArrayList<>(records.size());
    String lastLsn = null;
    Counter events = null;
    String eventsTable = null;
    String eventsTopic = null;
    for (RecordChangeEvent<SourceRecord> r : records) {
      EventMapper.Mapped m;
      try {
        m = mapper.map(r.record());
      } catch (MappingException e) {
        counter("unpoll.relay.errors", "kind", "mapping").increment();
        throw new RelayException(e.getMessage(), e); // says what to do already
      } catch (RuntimeException e) {
        counter("unpoll.relay.errors", "kind", "mapping").increment();
        throw new RelayException(
            "cannot map change record of topic " + r.record().topic() + ": " + e, e);
      }
      if (m.lsn() != null) {
        lastLsn = m.lsn();
      }
      if (m.error() != null) {
        counter("unpoll.relay.errors", "kind", m.skipReason()).increment();
        LOG.error("skipped change at LSN {} of {}: {}", m.lsn(), m.table(), m.error());
        continue;
      }
      if (m.record() == null) {
        counter("unpoll.relay.skipped", "table", m.table(), "reason", m.skipReason()).increment();
        continue;
      }
      mapped.add(m);
      if (LOG.isTraceEnabled()) {
        LOG.trace(
            "{} key {} at LSN {} -> {}",
            m.table(),
            new String(m.record().key(), java.nio.charset.StandardCharsets.UTF_8),
            m.lsn(),
            m.record().topic());
      }
      long commit = m.commitMillis();
      String table = m.table();
      String topic = m.record().topic();
      if (events == null || !table.equals(eventsTable) || !topic.equals(eventsTopic)) {
        // the rows of a batch mostly share one table and topic: one lookup for all of them
        events = counter("unpoll.relay.events", "table", table, "topic", topic);
        eventsTable = table;
        eventsTopic = topic;
      }
      Counter counted = events;
      Future<RecordMetadata> f =
          producer.send(
              m.record(),
              (md, ex) -> {
                if (ex == null) {
                  if (commit > 0) {
                    latency.record(
                        Math.max(0, System.currentTimeMillis() - commit), TimeUnit.MILLISECONDS);
                  }
                  counted.increment();
                }
              });
      sent.add(f);
      if (f.isDone()) {
        // failed fast (e.g. no metadata within max.block.ms): stop before blocking on the rest
        await(f, m, 0);
      }
    }
    long deadline = System.nanoTime() + ackTimeoutNanos;
    for (int i = 0; i < sent.size(); i++) {
      await(sent.get(i), mapped.get(i), Math.max(0, deadline - System.nanoTime()));
    }
    if (!snapshotRecorded && snapshot.done(records)) {
      snapshotRecorded = snapshotAcknowledged.getAsBoolean();
    }
    // every record here is acknowledged; the stored offset may move only to a record after which
    // no change at the same LSN can follow (see SameLsnTail)
    List<RecordChangeEvent<SourceRecord>> acked = new ArrayList<>(held.size() + records.size());
    acked.addAll(held);
    acked.addAll(records);
    held.clear();
    int tail = SameLsnTail.start(acked);
    for (int i = 0; i < tail; i++) {
      committer.markProcessed(acked.get(i));
    }
    held.addAll(acked.subList(tail, acked.size()));
    committer.markBatchFinished();
    synchronized (heldMonitor) {
      acknowledged += records.size();
      marked = acknowledged - held.size();
      heldMonitor.notifyAll();
    }
    if (lastLsn != null) {
      ackedLsn.accept(lastLsn);
    }
    if (afterBatch != null) {
      afterBatch.accept(records.stream().map(RecordChangeEvent::record).toList());
    }
    if (LOG.isDebugEnabled() && !sent.isEmpty()) {
      LOG.debug("batch of {} events acknowledged up to LSN {}", sent.size(), lastLsn);
    }
  }

  /**
   * Tells, batch by batch in commit order, when every record of the snapshot has been read, on
   * evidence from the snapshot itself (Debezium 3.6's Postgres offsets: a snapshot record carries
   * {@code snapshot}, {@code last_snapshot_record} and {@code snapshot_completed}; the last one has
   * both flags true; a streamed record carries none of them). Done at a record whose offset says
   * {@code last_snapshot_record} or {@code snapshot_completed}, or at a streamed record that comes
   * after a snapshot record of this run. A streamed record before any snapshot record never counts:
   * with {@code unpoll_backlog} on stored offsets Debezium first streams the changes since those
   * offsets, then snapshots. So an empty snapshot (no record) is never done, and the next start
   * reads the backlog again: duplicates at worst, never a loss.
   */
  static final class SnapshotProgress {
    private boolean snapshotSeen;
    private boolean done;

    /** True once this batch, or an earlier one, completed the snapshot. */
    boolean done(List<RecordChangeEvent<SourceRecord>> records) {
      for (RecordChangeEvent<SourceRecord> r : records) {
        if (done) {
          break;
        }
        Map<String, ?> offset = r.record().sourceOffset();
        if (offset == null || offset.isEmpty()) {
          continue;
        }
        if (offset.containsKey("snapshot")) {
          snapshotSeen = true;
          done =
              Boolean.TRUE.equals(offset.get("last_snapshot_record"))
                  || Boolean.TRUE.equals(offset.get("snapshot_completed"));
        } else {
          done = snapshotSeen;
        }
      }
      return done;
    }
  }

  /**
   * Where the stored offset may not go yet. One WAL record can reach the relay as several changes
   * that share its LSN: a COPY writes one multi-insert record per heap page (up to ~290 rows), and
   * an update that changes the primary key becomes a delete and an insert. Debezium 3.6's pgoutput
   * reader marks each change completely processed ({@code lsn_proc}), and on restart resumes after
   * the stored LSN, so an offset stored at the first of them skips the others: lost
   * (debezium/dbz#1554; not fixed in 3.7.1). The relay therefore holds back the acknowledged
   * changes at the end of a batch that share the last one's LSN, and marks them with a later batch,
   * once a record with another position arrived (the next change, or a heartbeat within {@code
   * heartbeat-interval}). A stop in between stores the offset before that run, and the restart
   * publishes the run again: duplicates of at most one WAL record, never a loss. Snapshot records
   * and records at a commit (Debezium's heartbeats after a transaction) are never held: nothing
   * later can share their position.
   */
  static final class SameLsnTail {
    private SameLsnTail() {}

    /** Index of the first record of the trailing run that must not be marked yet. */
    static int start(List<RecordChangeEvent<SourceRecord>> records) {
      return dev.unpoll.mapping.SameLsnTail.start(
          records.stream().map(RecordChangeEvent::record).toList());
    }
  }

  private void await(Future<RecordMetadata> f, EventMapper.Mapped m, long timeoutNanos)
      throws InterruptedException {
    try {
      f.get(timeoutNanos, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      counter("unpoll.relay.errors", "kind", "kafka-timeout").increment();
      throw new RelayException(
          notAcknowledged(
              m,
              " within "
                  + TimeUnit.NANOSECONDS.toMillis(ackTimeoutNanos)
                  + " ms (delivery.timeout.ms + "
                  + ACK_GRACE_MS
                  + " ms)"));
    } catch (ExecutionException e) {
      counter("unpoll.relay.errors", "kind", "kafka-send").increment();
      throw new RelayException(notAcknowledged(m, ": " + e.getCause()), e.getCause());
    }
  }

  private static String notAcknowledged(EventMapper.Mapped m, String why) {
    return "Kafka did not acknowledge the event of "
        + m.table()
        + " at LSN "
        + m.lsn()
        + " for topic "
        + m.record().topic()
        + why
        + "; offsets stay at the last acknowledged batch, restart the relay to resume";
  }

  private Counter counter(String name, String k1, String v1) {
    return counters.computeIfAbsent(
        name + '|' + v1, k -> Counter.builder(name).tag(k1, v1).register(registry));
  }

  private Counter counter(String name, String k1, String v1, String k2, String v2) {
    return counters.computeIfAbsent(
        name + '|' + v1 + '|' + v2,
        k -> Counter.builder(name).tag(k1, v1).tag(k2, v2).register(registry));
  }

  /**
   * Waits up to {@code timeout} until every record acknowledged so far has its offset marked (see
   * {@link SameLsnTail}: that takes a later record); returns how many still wait. A graceful stop
   * calls this first, so that a restart publishes fewer records again.
   */
  public long awaitOffsetsMarked(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (heldMonitor) {
      long target = acknowledged;
      long left;
      while (marked < target && (left = deadline - System.nanoTime()) > 0) {
        TimeUnit.NANOSECONDS.timedWait(heldMonitor, left);
      }
      return Math.max(0, target - marked);
    }
  }

  /** Counts an error of {@code kind}. */
  public void error(String kind) {
    counter("unpoll.relay.errors", "kind", kind).increment();
  }

  /** Flushes and closes the producer. */
  @Override
  public void close() {
    producer.flush();
    producer.close(Duration.ofSeconds(30));
  }
}
