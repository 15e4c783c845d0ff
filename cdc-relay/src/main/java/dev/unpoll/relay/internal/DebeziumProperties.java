package dev.unpoll.relay.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.JdbcUrl;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.contract.config.UnpollConfig.OffsetStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/** Builds the Debezium engine properties from the relay configuration. */
public final class DebeziumProperties {

  /** Offsets are flushed (and the slot confirmed) about this often. */
  public static final long OFFSET_FLUSH_INTERVAL_MS = 1000;

  /** Largest batch handed to the relay. */
  public static final int MAX_BATCH_SIZE = 2048;

  /** Queue between the connector and the relay. */
  public static final int MAX_QUEUE_SIZE = 8192;

  private static final Set<String> SSL_PARAMS =
      Set.of("sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword");

  private DebeziumProperties() {}

  /**
   * The engine properties; {@code backlog} lists the tables to snapshot on their pending rows.
   * {@code slotInUse} (the slot or offsets exist already) selects {@link BacklogSnapshotter}, which
   * streams from the stored position after the snapshot; otherwise Debezium's {@code initial}
   * snapshot reads the backlog in the snapshot exported by the slot it creates.
   *
   * <p>The publication is the filter: Debezium gets no table list of its own, so a table added to
   * the publication while the relay runs (captured for a newer configuration) reaches {@link
   * EventMapper}, which stops the relay there instead of letting a filter drop its changes and the
   * offsets move past them. Only a {@code FOR ALL TABLES} publication ({@code
   * publicationForAllTables}) is narrowed by a table list.
   */
  public static Properties of(
      UnpollConfig config,
      List<TableName> backlog,
      boolean slotInUse,
      boolean publicationForAllTables) {
    UnpollConfig.Source s = config.source();
    JdbcUrl url = JdbcUrl.parse(s.jdbcUrl()).orElseThrow();
    Properties p = new Properties();
    p.setProperty("name", "unpoll-relay-" + s.slot());
    // Debezium's PostgreSQL connector, but a source error no retry can fix stops the engine
    // instead of restarting it without end (errors.max.retries is unlimited for SQLException)
    p.setProperty("connector.class", StoppingPostgresConnector.class.getName());
    p.setProperty("topic.prefix", s.slot());
    p.setProperty("database.hostname", url.host());
    p.setProperty("database.port", Integer.toString(url.port()));
    p.setProperty("database.dbname", url.database());
    p.setProperty("database.user", s.user());
    p.setProperty("database.password", s.password());
    for (Map.Entry<String, String> e : url.parameters().entrySet()) {
      if (SSL_PARAMS.contains(e.getKey())) {
        p.setProperty("database." + e.getKey(), e.getValue());
      } else {
        p.setProperty("driver." + e.getKey(), e.getValue());
      }
    }
    p.setProperty("plugin.name", "pgoutput");
    p.setProperty("slot.name", s.slot());
    p.setProperty("slot.drop.on.stop", "false");
    // a slot behind the stored offset was recreated: fail instead of streaming over the gap
    p.setProperty("offset.mismatch.strategy", "trust_offset");
    p.setProperty("publication.name", s.publication());
    p.setProperty("publication.autocreate.mode", "disabled");
    if (publicationForAllTables) {
      List<String> include = new ArrayList<>();
      for (TableName t : PreFlight.capturedTables(config)) {
        include.add(regex(t.dotted()));
      }
      p.setProperty("table.include.list", String.join(",", include));
    }
    if (config.outbox().isPresent()) {
      p.setProperty("message.prefix.include.list", regex(config.outbox().get().walMessagePrefix()));
    } else {
      p.setProperty("message.prefix.exclude.list", ".*");
    }
    if (backlog.isEmpty()) {
      p.setProperty("snapshot.mode", "no_data");
    } else {
      if (slotInUse) {
        p.setProperty("snapshot.mode", "custom");
        p.setProperty("snapshot.mode.custom.name", BacklogSnapshotter.NAME);
      } else {
        p.setProperty("snapshot.mode", "initial");
      }
      List<String> names = new ArrayList<>();
      for (TableName t : backlog) {
        names.add(regex(t.dotted()));
      }
      p.setProperty("snapshot.include.collection.list", String.join(",", names));
      List<String> overrides = new ArrayList<>();
      for (TableMapping m : config.tables()) {
        if (backlog.contains(m.table())) {
          // quoted: Debezium parses these names (TableId.parse), and a space or a quote in an
          // unquoted name stops the connector ("Unexpected input")
          overrides.add(m.table().quoted());
          p.setProperty(
              "snapshot.select.statement.overrides." + m.table().quoted(),
              PreFlight.backlogSelect(m));
        }
      }
      p.setProperty("snapshot.select.statement.overrides", String.join(",", overrides));
    }
    p.setProperty("heartbeat.interval.ms", Long.toString(s.heartbeatInterval().toMillis()));
    p.setProperty("heartbeat.action.query", PreFlight.heartbeatQuery(s.slot()));
    // source.poll-interval: Debezium 3.6 waits it when the slot has nothing and for a fuller batch
    p.setProperty("poll.interval.ms", Long.toString(s.pollInterval().toMillis()));
    p.setProperty("max.batch.size", Integer.toString(MAX_BATCH_SIZE));
    p.setProperty("max.queue.size", Integer.toString(MAX_QUEUE_SIZE));
    p.setProperty("offset.flush.interval.ms", Long.toString(OFFSET_FLUSH_INTERVAL_MS));
    p.setProperty("offset.flush.timeout.ms", "10000");
    if (config.offsets().store() == OffsetStore.FILE) {
      p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
      p.setProperty(
          "offset.storage.file.filename",
          config.offsets().file().orElseThrow().toAbsolutePath().toString());
    } else {
      p.setProperty("offset.storage", "io.debezium.storage.jdbc.offset.JdbcOffsetBackingStore");
      p.setProperty("offset.storage.jdbc.connection.url", s.jdbcUrl());
      p.setProperty("offset.storage.jdbc.connection.user", s.user());
      p.setProperty("offset.storage.jdbc.connection.password", s.password());
      p.setProperty("offset.storage.jdbc.table.name", PreFlight.offsetTable(config));
    }
    p.setProperty("decimal.handling.mode", "precise");
    p.setProperty("time.precision.mode", "adaptive");
    p.setProperty("binary.handling.mode", "bytes");
    p.setProperty("interval.handling.mode", "string");
    p.setProperty("hstore.handling.mode", "json");
    p.setProperty("tombstones.on.delete", "false");
    p.setProperty("include.unknown.datatypes", "false");
    return p;
  }

  /** A Debezium include-list regex matching exactly {@code name}. */
  static String regex(String name) {
    StringBuilder sb = new StringBuilder();
    for (char c : name.toCharArray()) {
      if ("\\.[]{}()*+?^$|".indexOf(c) >= 0) {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.toString();
  }
}
