package dev.unpoll.benchmarks;

import dev.unpoll.testkit.TestPostgres;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * R1's {@code stock} arm: what a team builds by hand instead of the relay. Debezium's embedded
 * engine with the stock PostgreSQL connector and the stock Outbox Event Router ({@code
 * io.debezium.transforms.outbox.EventRouter}) pointed at the legacy table (event id and key the
 * row's {@code id}, payload the {@code payload} column), and a plain {@code KafkaProducer} sending
 * each routed record (key and payload as UTF-8 text, the router's headers as text). Each batch is
 * sent, every send awaited, then the batch's offsets marked processed: the safe hand-written loop.
 * Offsets go to a file; snapshot mode {@code no_data}, so it only streams.
 */
final class StockOutboxRouter implements AutoCloseable {
  /**
   * {@code ROUTE}: the stock arm. {@code DISCARD}: R1's {@code engine.discard} arm, the same engine
   * with no transform and no producer: every change record is counted and marked processed, nothing
   * is sent. What the embedded engine costs by itself, the bound of anything built on it.
   */
  enum Mode {
    ROUTE,
    DISCARD
  }

  private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
  private final ExecutorService executor;
  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  private final Mode mode;
  private final Path offsets;
  private final AtomicLong published = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  StockOutboxRouter(
      TestPostgres pg,
      String slot,
      String publication,
      String topic,
      Path offsets,
      Map<String, Object> producerSettings,
      Mode mode) {
    this.topic = topic;
    this.mode = mode;
    this.offsets = offsets;
    Properties p = new Properties();
    p.setProperty("name", "stock-" + slot);
    p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
    p.setProperty("offset.storage.file.filename", offsets.toAbsolutePath().toString());
    p.setProperty("offset.flush.interval.ms", "1000");
    p.setProperty("topic.prefix", slot);
    p.setProperty("database.hostname", pg.host());
    p.setProperty("database.port", Integer.toString(pg.port()));
    p.setProperty("database.dbname", pg.database());
    p.setProperty("database.user", pg.user());
    p.setProperty("database.password", pg.password());
    p.setProperty("plugin.name", "pgoutput");
    p.setProperty("slot.name", slot);
    p.setProperty("publication.name", publication);
    p.setProperty("publication.autocreate.mode", "disabled");
    p.setProperty("table.include.list", "shop\\.order_integration");
    p.setProperty("snapshot.mode", "no_data");
    p.setProperty("heartbeat.interval.ms", "1000"); // an offset is stored while the table is idle
    if (mode == Mode.ROUTE) {
      p.setProperty("transforms", "outbox");
      p.setProperty("transforms.outbox.type", "io.debezium.transforms.outbox.EventRouter");
      p.setProperty("transforms.outbox.table.field.event.id", "id");
      p.setProperty("transforms.outbox.table.field.event.key", "id");
      p.setProperty("transforms.outbox.table.field.event.payload", "payload");
      p.setProperty("transforms.outbox.route.by.field", "event_type");
      p.setProperty("transforms.outbox.route.topic.replacement", topic);
    }
    this.producer = new KafkaProducer<>(producerSettings);
    this.engine =
        DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
            .using(p)
            .using(
                (success, message, error) -> {
                  if (!success) {
                    failure.compareAndSet(
                        null, error != null ? error : new IllegalStateException(message));
                  }
                })
            .notifying(this::handle)
            .build();
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "r1-stock-engine");
              t.setDaemon(true);
              return t;
            });
  }

  void start() {
    executor.execute(engine);
  }

  long published() {
    return published.get();
  }

  Optional<Throwable> failure() {
    return Optional.ofNullable(failure.get());
  }

  boolean offsetsStored() {
    try {
      return Files.exists(offsets) && Files.size(offsets) > 0;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private void handle(
      List<RecordChangeEvent<SourceRecord>> records,
      DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
      throws InterruptedException {
    if (mode == Mode.DISCARD) {
      long changes = 0;
      for (RecordChangeEvent<SourceRecord> r : records) {
        if (r.record().value() != null && !r.record().topic().startsWith("__debezium")) {
          changes++;
        }
        committer.markProcessed(r);
      }
      committer.markBatchFinished();
      published.addAndGet(changes);
      return;
    }
    List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
    for (RecordChangeEvent<SourceRecord> r : records) {
      SourceRecord s = r.record();
      if (!topic.equals(s.topic()) || s.value() == null) {
        continue; // heartbeats
      }
      RecordHeaders headers = new RecordHeaders();
      for (Header h : s.headers()) {
        headers.add(h.key(), text(h.value()));
      }
      sent.add(
          producer.send(
              new ProducerRecord<>(topic, null, text(s.key()), text(s.value()), headers)));
    }
    for (Future<RecordMetadata> f : sent) {
      try {
        f.get();
      } catch (ExecutionException e) {
        failure.compareAndSet(null, e.getCause());
        throw new IllegalStateException("stock producer failed", e.getCause());
      }
    }
    published.addAndGet(sent.size());
    for (RecordChangeEvent<SourceRecord> r : records) {
      committer.markProcessed(r);
    }
    committer.markBatchFinished();
  }

  private static byte[] text(Object value) {
    return value == null ? null : String.valueOf(value).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws Exception {
    try {
      engine.close();
    } finally {
      executor.shutdown();
      executor.awaitTermination(60, TimeUnit.SECONDS);
      producer.close();
    }
  }
}
