package dev.unpoll.connect;

import dev.unpoll.contract.config.ConfigReader;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.mapping.EventMapper;
import dev.unpoll.mapping.MappingException;
import dev.unpoll.mapping.Values;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's mapping as a Kafka Connect transformation beside Debezium's PostgreSQL connector:
 * each change record becomes exactly the record the relay publishes (topic, key, value, CloudEvents
 * headers), or nothing where the relay publishes nothing (bookkeeping-only updates, cleanup
 * deletes, the heartbeat table). Debezium's heartbeat records go on to their topic with their
 * offsets, their key and value as JSON bytes.
 *
 * <p>Configured with the {@code tables} and {@code outbox} sections of {@code unpoll.yaml} inline
 * ({@value #MAPPING_CONFIG}), checked by the same reader as the relay's, so a bad mapping is
 * refused at connector validation with the relay's messages. Key, value and headers are bytes: the
 * connector must use {@code ByteArrayConverter} for all three ({@code unpoll connect-config} sets
 * them).
 */
public final class UnpollEventRouter implements Transformation<SourceRecord> {

  /** The {@code tables} and {@code outbox} sections of {@code unpoll.yaml}, as YAML text. */
  public static final String MAPPING_CONFIG = "mapping";

  /** The connector's publication, named when a change of an unmapped table stops the task. */
  public static final String PUBLICATION_CONFIG = "publication";

  private static final Logger LOG = LoggerFactory.getLogger(UnpollEventRouter.class);

  private static final ConfigDef CONFIG_DEF =
      new ConfigDef()
          .define(
              MAPPING_CONFIG,
              ConfigDef.Type.STRING,
              ConfigDef.NO_DEFAULT_VALUE,
              (name, value) -> {
                if (value != null) {
                  capture((String) value);
                }
              },
              ConfigDef.Importance.HIGH,
              "The tables and outbox sections of unpoll.yaml, as YAML text (unpoll connect-config"
                  + " writes them).")
          .define(
              PUBLICATION_CONFIG,
              ConfigDef.Type.STRING,
              ConfigDef.NO_DEFAULT_VALUE,
              new ConfigDef.NonEmptyString(),
              ConfigDef.Importance.MEDIUM,
              "The connector's publication.name, named when a change of an unmapped table stops"
                  + " the task.");

  private EventMapper mapper;

  /** Connect creates the transformation, then calls {@link #configure(Map)}. */
  public UnpollEventRouter() {}

  @Override
  public void configure(Map<String, ?> configs) {
    AbstractConfig c = new AbstractConfig(CONFIG_DEF, configs);
    UnpollConfig.Capture capture = capture(c.getString(MAPPING_CONFIG));
    mapper = new EventMapper(c.getString(PUBLICATION_CONFIG), capture.tables(), capture.outbox());
  }

  /**
   * The mapping read as the relay reads it.
   *
   * @throws ConfigException with the relay's message, listing every problem
   */
  private static UnpollConfig.Capture capture(String yaml) {
    try {
      return new ConfigReader(System.getenv()).readCapture(yaml);
    } catch (dev.unpoll.contract.config.ConfigException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  @Override
  public SourceRecord apply(SourceRecord record) {
    if (EventMapper.isHeartbeat(record)) {
      return heartbeat(record);
    }
    EventMapper.Mapped m;
    try {
      m = mapper.map(record);
    } catch (MappingException e) {
      // the task stops: skipping would move the offsets past the table's changes for good
      throw new ConnectException(e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new DataException("cannot map change record of topic " + record.topic() + ": " + e, e);
    }
    if (m.error() != null) {
      LOG.error("skipped change at LSN {} of {}: {}", m.lsn(), m.table(), m.error());
      return null;
    }
    ProducerRecord<byte[], byte[]> r = m.record();
    if (r == null) {
      return null;
    }
    ConnectHeaders headers = new ConnectHeaders();
    for (Header h : r.headers()) {
      headers.addBytes(h.key(), h.value());
    }
    return record.newRecord(
        r.topic(),
        null,
        Schema.OPTIONAL_BYTES_SCHEMA,
        r.key(),
        Schema.OPTIONAL_BYTES_SCHEMA,
        r.value(),
        record.timestamp(),
        headers);
  }

  /**
   * Debezium's heartbeat, to its topic with its source offset: only its key and value structs are
   * written as JSON bytes, because the connector's converters write bytes as they are (the events'
   * encoding).
   */
  private static SourceRecord heartbeat(SourceRecord record) {
    return record.newRecord(
        record.topic(),
        record.kafkaPartition(),
        Schema.OPTIONAL_BYTES_SCHEMA,
        json(record.keySchema(), record.key()),
        Schema.OPTIONAL_BYTES_SCHEMA,
        json(record.valueSchema(), record.value()),
        record.timestamp(),
        record.headers());
  }

  private static byte[] json(Schema schema, Object value) {
    return value == null ? null : Values.write(Values.toJson(schema, value));
  }

  @Override
  public ConfigDef config() {
    return CONFIG_DEF;
  }

  @Override
  public void close() {
    mapper = null;
  }
}
