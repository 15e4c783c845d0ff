package dev.unpoll.mapping;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.contract.KeyCodec;
import dev.unpoll.contract.KeyPart;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * Converts Debezium's Connect values (with {@code decimal.handling.mode=precise}, {@code
 * time.precision.mode=adaptive}, {@code binary.handling.mode=bytes}, {@code
 * interval.handling.mode=string}) to the JSON of the wire format.
 */
public final class Values {

  /** Shared mapper: exact decimals, written plain, no spaces. */
  public static final ObjectMapper JSON =
      JsonMapper.builder()
          .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
          .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
          .disable(SerializationFeature.INDENT_OUTPUT)
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .build();

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final DateTimeFormatter MICROS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS");
  private static final DateTimeFormatter MILLIS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS");
  private static final DateTimeFormatter MILLIS_UTC =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private Values() {}

  /** Converts one Connect value with its schema. */
  public static JsonNode toJson(Schema schema, Object value) {
    if (value == null) {
      return NODES.nullNode();
    }
    String name = schema == null ? null : schema.name();
    if (name != null) {
      switch (name) {
        case "io.debezium.data.Json":
          try {
            return JSON.readTree((String) value);
          } catch (JsonProcessingException e) {
            return NODES.textNode((String) value);
          }
        case Decimal.LOGICAL_NAME:
          return DecimalNode.valueOf((BigDecimal) value);
        case "io.debezium.data.VariableScaleDecimal":
          {
            Struct s = (Struct) value;
            byte[] bytes = bytes(s.get("value"));
            return DecimalNode.valueOf(new BigDecimal(new BigInteger(bytes), s.getInt32("scale")));
          }
        case "io.debezium.time.Date":
        case org.apache.kafka.connect.data.Date.LOGICAL_NAME:
          if (value instanceof Integer days) {
            return NODES.textNode(LocalDate.ofEpochDay(days).toString());
          }
          if (value instanceof java.util.Date d) {
            return NODES.textNode(d.toInstant().atOffset(ZoneOffset.UTC).toLocalDate().toString());
          }
          break;
        case "io.debezium.time.Timestamp":
          return NODES.textNode(
              MILLIS.format(
                  LocalDateTime.ofInstant(Instant.ofEpochMilli((Long) value), ZoneOffset.UTC)));
        case "io.debezium.time.MicroTimestamp":
          return NODES.textNode(MICROS.format(utc(micros((Long) value))));
        case "io.debezium.time.NanoTimestamp":
          return NODES.textNode(utc(nanos((Long) value)).toString());
        case "io.debezium.time.Time":
          return NODES.textNode(LocalTime.ofNanoOfDay(((Integer) value) * 1_000_000L).toString());
        case "io.debezium.time.MicroTime":
          return NODES.textNode(LocalTime.ofNanoOfDay(((Long) value) * 1000L).toString());
        default:
          break;
      }
    }
    if (schema == null) {
      return NODES.textNode(String.valueOf(value));
    }
    switch (schema.type()) {
      case INT8:
      case INT16:
      case INT32:
      case INT64:
        return NODES.numberNode(((Number) value).longValue());
      case FLOAT32:
        return NODES.numberNode(((Number) value).floatValue());
      case FLOAT64:
        return NODES.numberNode(((Number) value).doubleValue());
      case BOOLEAN:
        return NODES.booleanNode((Boolean) value);
      case STRING:
        return NODES.textNode((String) value);
      case BYTES:
        return NODES.textNode(Base64.getEncoder().encodeToString(bytes(value)));
      case ARRAY:
        {
          ArrayNode a = NODES.arrayNode();
          for (Object o : (List<?>) value) {
            a.add(toJson(schema.valueSchema(), o));
          }
          return a;
        }
      case MAP:
        {
          ObjectNode o = NODES.objectNode();
          for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
            o.set(String.valueOf(e.getKey()), toJson(schema.valueSchema(), e.getValue()));
          }
          return o;
        }
      case STRUCT:
        {
          Struct s = (Struct) value;
          ObjectNode o = NODES.objectNode();
          for (Field f : schema.fields()) {
            o.set(f.name(), toJson(f.schema(), s.get(f)));
          }
          return o;
        }
      default:
        return NODES.textNode(String.valueOf(value));
    }
  }

  private static Instant micros(long micros) {
    return Instant.ofEpochSecond(
        Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
  }

  private static Instant nanos(long nanos) {
    return Instant.ofEpochSecond(
        Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
  }

  private static LocalDateTime utc(Instant i) {
    return LocalDateTime.ofInstant(i, ZoneOffset.UTC);
  }

  /** The bytes of a Connect BYTES value (byte[] or ByteBuffer). */
  public static byte[] bytes(Object value) {
    if (value instanceof byte[] b) {
      return b;
    }
    ByteBuffer buf = ((ByteBuffer) value).duplicate();
    byte[] b = new byte[buf.remaining()];
    buf.get(b);
    return b;
  }

  /** Serialises without spaces. */
  public static byte[] write(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise JSON", e);
    }
  }

  /** Serialises without spaces. */
  public static String writeString(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise JSON", e);
    }
  }

  /** ISO-8601 UTC with milliseconds: {@code 2026-11-21T19:56:52.123Z}. */
  public static String isoMillis(long epochMillis) {
    return MILLIS_UTC.format(Instant.ofEpochMilli(epochMillis));
  }

  /** An LSN in PostgreSQL's notation: {@code 0/16B3748}. */
  public static String lsn(long lsn) {
    return Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT)
        + "/"
        + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(java.util.Locale.ROOT);
  }

  /**
   * One key column's Connect value as a {@link KeyPart}, so the relay's key is {@link KeyCodec}'s,
   * the same that {@code unpoll verify} computes from JDBC.
   */
  public static KeyPart keyPart(Schema schema, Object value) {
    if (value == null) {
      return new KeyPart.Null();
    }
    String name = schema == null ? null : schema.name();
    if (name != null) {
      switch (name) {
        case Decimal.LOGICAL_NAME:
          return KeyPart.of((BigDecimal) value);
        case "io.debezium.data.VariableScaleDecimal":
          {
            Struct s = (Struct) value;
            return KeyPart.of(
                new BigDecimal(new BigInteger(bytes(s.get("value"))), s.getInt32("scale")));
          }
        case "io.debezium.time.Date":
        case org.apache.kafka.connect.data.Date.LOGICAL_NAME:
          if (value instanceof Integer days) {
            return KeyPart.date(LocalDate.ofEpochDay(days));
          }
          return KeyPart.date(
              ((java.util.Date) value).toInstant().atOffset(ZoneOffset.UTC).toLocalDate());
        case "io.debezium.time.Timestamp":
          return KeyPart.timestamp(utc(Instant.ofEpochMilli((Long) value)));
        case "io.debezium.time.MicroTimestamp":
          return KeyPart.timestamp(utc(micros((Long) value)));
        case "io.debezium.time.NanoTimestamp":
          return KeyPart.timestamp(utc(nanos((Long) value)));
        case "io.debezium.time.ZonedTimestamp":
          return KeyPart.timestamptz(OffsetDateTime.parse((String) value).toInstant());
        case "io.debezium.time.Time":
          return KeyPart.time(LocalTime.ofNanoOfDay(((Integer) value) * 1_000_000L));
        case "io.debezium.time.MicroTime":
          return KeyPart.time(LocalTime.ofNanoOfDay(((Long) value) * 1000L));
        case "io.debezium.time.NanoTime":
          return KeyPart.time(LocalTime.ofNanoOfDay((Long) value));
        default:
          break;
      }
    }
    if (schema == null) {
      return KeyPart.text(String.valueOf(value));
    }
    switch (schema.type()) {
      case INT8:
      case INT16:
      case INT32:
      case INT64:
        return KeyPart.of(((Number) value).longValue());
      case FLOAT32:
        // the float's shortest text (1.1, not 1.100000023841858), as JDBC reads a real
        return KeyPart.of(Double.parseDouble(value.toString()));
      case FLOAT64:
        return KeyPart.of(((Number) value).doubleValue());
      case BOOLEAN:
        return KeyPart.of((boolean) (Boolean) value);
      case BYTES:
        return KeyPart.text(Base64.getEncoder().encodeToString(bytes(value)));
      default:
        return KeyPart.text(String.valueOf(value));
    }
  }
}
