package dev.unpoll.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.Headers;
import dev.unpoll.contract.KeyCodec;
import dev.unpoll.contract.KeyPart;
import dev.unpoll.contract.OutboxFormat;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.WalMessage;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.TableMapping.ValueMode;
import dev.unpoll.contract.config.UnpollConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Maps one Debezium change record to the Kafka record of the wire format
 * (docs/reference/event-format.md), or to a reason it emits nothing. The one mapping of both
 * runtimes: the relay's publisher and the Kafka Connect transformation call it.
 */
public final class EventMapper {

  /** The heartbeat table the relay writes to and skips. */
  public static final TableName HEARTBEAT_TABLE = dev.unpoll.contract.RelayNames.HEARTBEAT_TABLE;

  /** Debezium's heartbeat records go to topics with this prefix. */
  public static final String HEARTBEAT_TOPIC_PREFIX = "__debezium-heartbeat";

  /**
   * Debezium's stand-in for a value a change does not carry: an unchanged value stored out of line
   * (TOAST) is left out of an update's new row image, and only a full old row image ({@code REPLICA
   * IDENTITY FULL}) gives it back. The connector's {@code unavailable.value.placeholder}, which the
   * relay leaves at its default.
   */
  public static final String UNAVAILABLE_VALUE_PLACEHOLDER = "__debezium_unavailable_value";

  private static final byte[] UNAVAILABLE_VALUE_BYTES =
      UNAVAILABLE_VALUE_PLACEHOLDER.getBytes(StandardCharsets.UTF_8);

  static final String JSON_CONTENT_TYPE = "application/json";
  static final String PAYLOAD_ENCODING_HEADER = Headers.PAYLOAD_ENCODING;

  /**
   * The outcome of one change record.
   *
   * @param record the Kafka record, or null when skipped
   * @param table the table tag for metrics ({@code schema.table}, {@code outbox}, {@code -})
   * @param skipReason why nothing is emitted, or null
   * @param lsn the change's LSN in PostgreSQL notation, or null
   * @param commitMillis commit time (epoch ms), or 0
   * @param error a mapping error to report (the record is skipped), or null
   */
  public record Mapped(
      ProducerRecord<byte[], byte[]> record,
      String table,
      String skipReason,
      String lsn,
      long commitMillis,
      String error) {
    /** Nothing to emit, for {@code reason}. */
    public static Mapped skip(String table, String reason, String lsn) {
      return new Mapped(null, table, reason, lsn, 0, null);
    }
  }

  private final Map<TableName, TableMapping> tables = new HashMap<>();

  // Memos of what the rows of one table and one transaction share, so a backlog of a million rows
  // does not format the same source, commit time and column list a million times. Each is an
  // immutable record in a volatile field: a mapper used from several threads only recomputes.
  private record SourceMemo(String db, String table, byte[] value) {}

  private record TimeMemo(long millis, byte[] value) {}

  private record FieldsMemo(TableMapping mapping, Schema schema, List<Field> fields) {}

  private volatile SourceMemo sourceMemo;
  private volatile TimeMemo timeMemo;
  private volatile FieldsMemo fieldsMemo;
  private final Optional<UnpollConfig.Outbox> outbox;
  private final String publication;

  /** A mapper for the given configuration. */
  public EventMapper(UnpollConfig config) {
    this(config.source().publication(), config.tables(), config.outbox());
  }

  /**
   * A mapper for the mapped tables and the outbox.
   *
   * @param publication the publication the changes come from, named when a table is unmapped
   */
  public EventMapper(
      String publication, List<TableMapping> tables, Optional<UnpollConfig.Outbox> outbox) {
    this.publication = publication;
    for (TableMapping m : tables) {
      this.tables.put(m.table(), m);
    }
    this.outbox = outbox;
  }

  /**
   * Why the capture stops for a table its publication holds but its configuration does not map, and
   * the fix: the changes are the new table's, and skipping them would lose them for good.
   */
  public static String unmappedProblem(List<String> tables, String publication) {
    return "tables: publication "
        + publication
        + " holds "
        + String.join(", ", tables)
        + ", which this configuration does not map (captured for a newer unpoll.yaml?): the relay"
        + " stops rather than skip their changes; start it with the unpoll.yaml that maps them"
        + " (unpoll plan --table <table> --out unpoll.yaml), or take them out of the publication"
        + " (unpoll rollback --table <table>)";
  }

  /**
   * Maps one record.
   *
   * @throws UnmappedTableException for a change of a table the configuration does not map
   */
  public Mapped map(SourceRecord record) {
    Object v = record.value();
    if (isHeartbeat(record)) {
      return Mapped.skip("-", "heartbeat", null);
    }
    if (!(v instanceof Struct value)) {
      return Mapped.skip("-", "tombstone", null);
    }
    Schema vs = value.schema();
    Struct source = vs.field("source") == null ? null : value.getStruct("source");
    String op = vs.field("op") == null ? null : value.getString("op");
    if (source == null || op == null) {
      return Mapped.skip("-", "not-a-change", null);
    }
    String lsn =
        source.schema().field("lsn") != null && source.getInt64("lsn") != null
            ? Values.lsn(source.getInt64("lsn"))
            : null;
    long commit = source.getInt64("ts_ms") == null ? 0 : source.getInt64("ts_ms");
    Long txId = source.schema().field("txId") == null ? null : source.getInt64("txId");
    String db = source.getString("db");
    if ("m".equals(op)) {
      return walMessage(value, lsn, commit, txId, db);
    }
    TableName table = new TableName(source.getString("schema"), source.getString("table"));
    if (table.equals(HEARTBEAT_TABLE)) {
      return Mapped.skip(table.dotted(), "heartbeat", lsn);
    }
    if (outbox.isPresent()
        && outbox.get().table().isPresent()
        && outbox.get().table().get().equals(table)) {
      return outboxRow(value, op, lsn, commit, txId, db);
    }
    TableMapping mapping = tables.get(table);
    if (mapping == null) {
      // in the publication but not in this configuration: a table captured for a newer
      // unpoll.yaml. Skipping would move the offsets past its rows for good; stop instead, so the
      // relay started with the new file publishes them.
      throw new UnmappedTableException(
          unmappedProblem(List.of(table.dotted()), publication) + " (change at LSN " + lsn + ")");
    }
    return legacy(mapping, record, value, op, lsn, commit, txId, db);
  }

  /** True for Debezium's own heartbeat records (not the relay's heartbeat table). */
  public static boolean isHeartbeat(SourceRecord record) {
    return record.topic() != null && record.topic().startsWith(HEARTBEAT_TOPIC_PREFIX);
  }

  private Mapped legacy(
      TableMapping m,
      SourceRecord record,
      Struct value,
      String op,
      String lsn,
      long commit,
      Long txId,
      String db) {
    String t = m.table().dotted();
    Struct before = value.getStruct("before");
    Struct after = value.getStruct("after");
    String kind;
    Struct row;
    switch (op) {
      case "c", "r" -> {
        kind = "inserted";
        row = after;
      }
      case "u" -> {
        if (!m.emitUpdates()) {
          return Mapped.skip(
              t, onlyBookkeeping(m, before, after) ? "bookkeeping-update" : "update", lsn);
        }
        if (onlyBookkeeping(m, before, after)) {
          return Mapped.skip(t, "bookkeeping-update", lsn);
        }
        kind = "updated";
        row = after;
      }
      case "d" -> {
        if (!m.emitDeletes()) {
          return Mapped.skip(t, "delete", lsn);
        }
        kind = "deleted";
        row = before;
      }
      case "t" -> {
        return Mapped.skip(t, "truncate", lsn);
      }
      default -> {
        return Mapped.skip(t, "op-" + op, lsn);
      }
    }
    if (row == null) {
      return new Mapped(
          null, t, "no-row-image", lsn, commit, "no row image for op " + op + " at " + lsn);
    }
    List<KeyPart> keyValues = new ArrayList<>();
    if (m.key().isEmpty()) {
      Struct key = (Struct) record.key();
      if (key == null) {
        return new Mapped(
            null,
            t,
            "no-key",
            lsn,
            commit,
            "table has no primary key and no key columns at " + lsn);
      }
      for (Field f : key.schema().fields()) {
        keyValues.add(Values.keyPart(f.schema(), key.get(f)));
      }
    } else {
      for (String c : m.key()) {
        Field f = row.schema().field(c);
        keyValues.add(f == null ? new KeyPart.Null() : Values.keyPart(f.schema(), row.get(f)));
      }
    }
    String key = KeyCodec.encode(keyValues);
    if (!kind.equals("inserted")) {
      String missing = unavailableColumn(row);
      if (missing != null) {
        throw new UnavailableValueException(
            "tables: the "
                + (kind.equals("updated") ? "update" : "delete")
                + " of "
                + t
                + " key "
                + key
                + " at LSN "
                + lsn
                + " does not carry the value of column \""
                + missing
                + "\" (unchanged and stored out of line, TOAST; the table's REPLICA IDENTITY is"
                + " not FULL any more): the relay stops rather than publish Debezium's placeholder"
                + " in its place. Run ALTER TABLE "
                + m.table().quoted()
                + " REPLICA IDENTITY FULL; the changes written before that stay without the value:"
                + " to move past them, start the relay once with emit-updates: false for this table"
                + " (its updates up to then are skipped, not published), then set it back to true");
      }
    }
    byte[] payload;
    String contentType;
    if (m.value() == ValueMode.PAYLOAD) {
      Field f = row.schema().field(m.payloadColumn().orElseThrow());
      Object pv = f == null ? null : row.get(f);
      if (pv == null) {
        payload = null;
        contentType = null;
      } else if ("io.debezium.data.Json".equals(f.schema().name())) {
        payload = ((String) pv).getBytes(StandardCharsets.UTF_8);
        contentType = JSON_CONTENT_TYPE;
      } else if ("io.debezium.data.Xml".equals(f.schema().name())) {
        payload = ((String) pv).getBytes(StandardCharsets.UTF_8);
        contentType = "application/xml";
      } else if (f.schema().type() == Schema.Type.BYTES) {
        payload = Values.bytes(pv);
        contentType = "application/octet-stream";
      } else if (f.schema().type() == Schema.Type.STRING) {
        payload = ((String) pv).getBytes(StandardCharsets.UTF_8);
        contentType = "text/plain; charset=utf-8";
      } else {
        payload = Values.write(Values.toJson(f.schema(), pv));
        contentType = JSON_CONTENT_TYPE;
      }
    } else {
      com.fasterxml.jackson.databind.node.ObjectNode o = Values.JSON.createObjectNode();
      for (Field f : payloadFields(m, row.schema())) {
        o.set(f.name(), Values.toJson(f.schema(), row.get(f)));
      }
      payload = Values.write(o);
      contentType = JSON_CONTENT_TYPE;
    }
    String type =
        kind.equals("inserted") && m.eventType().isPresent() ? m.eventType().get() : t + "." + kind;
    RecordHeaders h = new RecordHeaders();
    ce(h, Headers.SPECVERSION, Headers.SPEC_VERSION_1_0);
    // an insert is the row's first event and its id is the row's, the same on every re-read and
    // in a backlog snapshot; an update or a delete is one more event of that row, so its id adds
    // the change's LSN (the same on every re-read too), or an idempotent consumer that has the
    // insert's id would skip it as a duplicate
    ce(h, Headers.ID, kind.equals("inserted") ? t + ":" + key : t + ":" + key + "@" + lsn);
    h.add(Headers.SOURCE, source(db, t));
    ce(h, Headers.TYPE, type);
    if (commit > 0) {
      h.add(Headers.TIME, time(commit));
    }
    ce(h, Headers.SUBJECT, key);
    if (contentType != null) {
      ce(h, Headers.CONTENT_TYPE, contentType);
    }
    diag(h, lsn, txId);
    ProducerRecord<byte[], byte[]> pr =
        new ProducerRecord<>(m.topic(), null, key.getBytes(StandardCharsets.UTF_8), payload, h);
    return new Mapped(pr, t, null, lsn, commit, null);
  }

  /** True if before and after differ only in bookkeeping columns (needs a full before image). */
  private static boolean onlyBookkeeping(TableMapping m, Struct before, Struct after) {
    if (before == null || after == null) {
      return false;
    }
    for (Field f : after.schema().fields()) {
      if (m.bookkeepingColumns().contains(f.name())) {
        continue;
      }
      Field bf = before.schema().field(f.name());
      if (bf == null) {
        return false;
      }
      Object a = after.get(f);
      Object b = before.get(bf);
      if (!Objects.deepEquals(normalise(a), normalise(b))) {
        return false;
      }
    }
    return true;
  }

  /** The first column of {@code row} holding Debezium's unavailable-value placeholder, or null. */
  private static String unavailableColumn(Struct row) {
    for (Field f : row.schema().fields()) {
      if (isPlaceholder(row.get(f))) {
        return f.name();
      }
    }
    return null;
  }

  private static boolean isPlaceholder(Object v) {
    if (v instanceof String s) {
      return s.equals(UNAVAILABLE_VALUE_PLACEHOLDER);
    }
    if (v instanceof byte[] || v instanceof java.nio.ByteBuffer) {
      return java.util.Arrays.equals(Values.bytes(v), UNAVAILABLE_VALUE_BYTES);
    }
    if (v instanceof List<?> list) {
      return list.stream().anyMatch(EventMapper::isPlaceholder);
    }
    if (v instanceof Map<?, ?> map) {
      return map.values().stream().anyMatch(EventMapper::isPlaceholder);
    }
    return false;
  }

  private static Object normalise(Object o) {
    return o instanceof java.nio.ByteBuffer ? Values.bytes(o) : o;
  }

  private Mapped outboxRow(Struct value, String op, String lsn, long commit, Long txId, String db) {
    if (!op.equals("c") && !op.equals("r")) {
      return Mapped.skip("outbox", op.equals("d") ? "outbox-delete" : "outbox-" + op, lsn);
    }
    Struct row = value.getStruct("after");
    try {
      UnpollConfig.Outbox o = outbox.orElseThrow();
      String id = text(row, o.column(OutboxFormat.ID));
      String aggregateType = text(row, o.column(OutboxFormat.AGGREGATE_TYPE));
      String aggregateId = text(row, o.column(OutboxFormat.AGGREGATE_ID));
      String type = text(row, o.column(OutboxFormat.TYPE));
      Field pf = row.schema().field(o.column(OutboxFormat.PAYLOAD));
      JsonNode payload =
          pf == null ? Values.JSON.nullNode() : Values.toJson(pf.schema(), row.get(pf));
      Field hf = row.schema().field(o.column(OutboxFormat.HEADERS));
      JsonNode headers =
          hf == null ? Values.JSON.nullNode() : Values.toJson(hf.schema(), row.get(hf));
      String contentType = headers.path(Headers.CONTENT_TYPE).asText(JSON_CONTENT_TYPE);
      String encoding = headers.path(PAYLOAD_ENCODING_HEADER).asText("");
      return outboxEvent(
          id,
          aggregateType,
          aggregateId,
          type,
          payload,
          headers,
          contentType,
          encoding,
          lsn,
          commit,
          txId,
          db);
    } catch (RuntimeException e) {
      return invalidOutbox(
          "invalid-outbox-row",
          lsn,
          commit,
          "invalid outbox row at " + lsn + ": " + e.getMessage());
    }
  }

  private Mapped walMessage(Struct value, String lsn, long commit, Long txId, String db) {
    Struct message = value.getStruct("message");
    String prefix = message.getString("prefix");
    if (outbox.isEmpty() || !outbox.get().walMessagePrefix().equals(prefix)) {
      return Mapped.skip("outbox", "foreign-message", lsn);
    }
    WalMessage.Decoded m;
    try {
      m = WalMessage.decode(Values.bytes(message.get("content")));
    } catch (WalMessage.InvalidException e) {
      return invalidOutbox(
          "invalid-message", lsn, commit, "outbox WAL message at " + lsn + " " + e.getMessage());
    }
    try {
      return outboxEvent(
          m.id(),
          m.aggregateType(),
          m.aggregateId(),
          m.type(),
          m.payload(),
          m.headers(),
          m.contentType(),
          m.payloadEncoding(),
          lsn,
          commit,
          txId,
          db);
    } catch (RuntimeException e) {
      return invalidOutbox(
          "invalid-message",
          lsn,
          commit,
          "invalid outbox WAL message at " + lsn + ": " + e.getMessage());
    }
  }

  /** An outbox event that cannot be published: counted under {@code kind}, logged, skipped. */
  private static Mapped invalidOutbox(String kind, String lsn, long commit, String why) {
    return new Mapped(null, "outbox", kind, lsn, commit, why);
  }

  private static String text(Struct row, String column) {
    Field f = row.schema().field(column);
    if (f == null || row.get(f) == null) {
      throw new IllegalArgumentException("column \"" + column + "\" is missing or null");
    }
    JsonNode n = Values.toJson(f.schema(), row.get(f));
    return n.isTextual() ? n.textValue() : n.toString();
  }

  private Mapped outboxEvent(
      String id,
      String aggregateType,
      String aggregateId,
      String type,
      JsonNode payload,
      JsonNode headers,
      String contentType,
      String encoding,
      String lsn,
      long commit,
      Long txId,
      String db) {
    byte[] bytes;
    if (payload == null || payload.isNull() || payload.isMissingNode()) {
      bytes = null;
    } else if ("base64".equals(encoding)) {
      bytes = Base64.getDecoder().decode(payload.asText());
    } else if (isJson(contentType)) {
      bytes = Values.write(payload);
    } else {
      bytes =
          (payload.isTextual() ? payload.textValue() : payload.toString())
              .getBytes(StandardCharsets.UTF_8);
    }
    String topic =
        outbox
            .orElseThrow()
            .topicPattern()
            .replace(UnpollConfig.AGGREGATE_TYPE_PLACEHOLDER, aggregateType);
    RecordHeaders h = new RecordHeaders();
    ce(h, Headers.SPECVERSION, Headers.SPEC_VERSION_1_0);
    ce(h, Headers.ID, id);
    ce(h, Headers.SOURCE, Headers.source(db, "outbox"));
    ce(h, Headers.TYPE, type);
    if (commit > 0) {
      ce(h, Headers.TIME, Values.isoMillis(commit));
    }
    ce(h, Headers.SUBJECT, aggregateId);
    ce(h, Headers.CONTENT_TYPE, contentType);
    diag(h, lsn, txId);
    if (headers != null && headers.isObject()) {
      for (Map.Entry<String, JsonNode> e : headers.properties()) {
        if (e.getKey().equals(Headers.CONTENT_TYPE) || e.getKey().equals(PAYLOAD_ENCODING_HEADER)) {
          continue;
        }
        ce(
            h,
            e.getKey(),
            e.getValue().isTextual() ? e.getValue().textValue() : e.getValue().toString());
      }
    }
    ProducerRecord<byte[], byte[]> pr =
        new ProducerRecord<>(topic, null, aggregateId.getBytes(StandardCharsets.UTF_8), bytes, h);
    return new Mapped(pr, "outbox", null, lsn, commit, null);
  }

  static boolean isJson(String contentType) {
    String ct = contentType.toLowerCase(java.util.Locale.ROOT);
    return ct.startsWith("application/json") || ct.contains("+json");
  }

  /** {@link Headers#source} of a legacy table's change, as header bytes. */
  private byte[] source(String db, String table) {
    SourceMemo memo = sourceMemo;
    if (memo == null || !memo.table().equals(table) || !Objects.equals(memo.db(), db)) {
      memo = new SourceMemo(db, table, Headers.source(db, table).getBytes(StandardCharsets.UTF_8));
      sourceMemo = memo;
    }
    return memo.value();
  }

  /** {@link Values#isoMillis} of a commit time, as header bytes. */
  private byte[] time(long commitMillis) {
    TimeMemo memo = timeMemo;
    if (memo == null || memo.millis() != commitMillis) {
      memo =
          new TimeMemo(
              commitMillis, Values.isoMillis(commitMillis).getBytes(StandardCharsets.UTF_8));
      timeMemo = memo;
    }
    return memo.value();
  }

  /** The row's columns that go into a whole-row payload: all but the bookkeeping ones. */
  private List<Field> payloadFields(TableMapping m, Schema rowSchema) {
    FieldsMemo memo = fieldsMemo;
    if (memo == null || memo.mapping() != m || memo.schema() != rowSchema) {
      List<Field> fields = new ArrayList<>();
      for (Field f : rowSchema.fields()) {
        if (!m.bookkeepingColumns().contains(f.name())) {
          fields.add(f);
        }
      }
      memo = new FieldsMemo(m, rowSchema, List.copyOf(fields));
      fieldsMemo = memo;
    }
    return memo.fields();
  }

  private static void diag(RecordHeaders h, String lsn, Long txId) {
    if (lsn != null) {
      ce(h, Headers.LSN, lsn);
    }
    if (txId != null) {
      ce(h, Headers.TXID, Long.toString(txId));
    }
  }

  private static void ce(RecordHeaders h, String name, String value) {
    h.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
