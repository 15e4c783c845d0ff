package dev.unpoll.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The canonical key of the event format, the idempotency key's second half ({@code ce_id} = {@code
 * schema.table:<canonical key>}): one key column's value as text, several as a JSON array without
 * spaces in key-column order (numbers and booleans as JSON literals, everything else as strings).
 * The relay, {@code unpoll verify} and the dual-run claim all go through this class, so the key the
 * relay writes is the key the others look for.
 */
public final class KeyCodec {

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
          .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .build();

  private KeyCodec() {}

  /** The canonical key of {@code parts} (at least one). */
  public static String encode(List<KeyPart> parts) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("a key needs at least one column");
    }
    if (parts.size() == 1) {
      KeyPart p = parts.get(0);
      if (p instanceof KeyPart.Text t) {
        return t.value();
      } else if (p instanceof KeyPart.Number n) {
        return n.value().toPlainString();
      } else if (p instanceof KeyPart.Floating f) {
        return Double.toString(f.value());
      } else if (p instanceof KeyPart.Bool b) {
        return Boolean.toString(b.value());
      }
      return "null";
    }
    ArrayNode a = JSON.createArrayNode();
    for (KeyPart p : parts) {
      if (p instanceof KeyPart.Text t) {
        a.add(t.value());
      } else if (p instanceof KeyPart.Number n) {
        a.add(n.value());
      } else if (p instanceof KeyPart.Floating f) {
        a.add(f.value());
      } else if (p instanceof KeyPart.Bool b) {
        a.add(b.value());
      } else {
        a.addNull();
      }
    }
    try {
      return JSON.writeValueAsString(a);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a key", e);
    }
  }

  /**
   * A reader of the canonical key of each row of a result set whose first {@code columns} columns
   * are the key columns, in key order. Each column is read by its PostgreSQL type (a {@code
   * timestamptz} as an instant, whatever the JVM's time zone), looked up once here, not per row.
   */
  public static JdbcKeys jdbcKeys(ResultSetMetaData metaData, int columns) throws SQLException {
    if (columns < 1) {
      throw new IllegalArgumentException("a key needs at least one column");
    }
    String[] types = new String[columns];
    for (int i = 0; i < columns; i++) {
      types[i] = metaData.getColumnTypeName(i + 1).toLowerCase(Locale.ROOT);
    }
    return new JdbcKeys(types);
  }

  /** See {@link #jdbcKeys}. */
  public static final class JdbcKeys {
    private final String[] types;

    private JdbcKeys(String[] types) {
      this.types = types;
    }

    /** The canonical key of the result set's current row. */
    public String key(ResultSet rs) throws SQLException {
      List<KeyPart> parts = new ArrayList<>(types.length);
      for (int i = 0; i < types.length; i++) {
        parts.add(part(rs, i + 1, types[i]));
      }
      return encode(parts);
    }

    private static KeyPart part(ResultSet rs, int column, String type) throws SQLException {
      switch (type) {
        case "int2", "int4", "int8", "smallint", "integer", "bigint", "oid" -> {
          long v = rs.getLong(column);
          return rs.wasNull() ? new KeyPart.Null() : KeyPart.of(v);
        }
        case "float4", "float8" -> {
          double v = rs.getDouble(column);
          return rs.wasNull() ? new KeyPart.Null() : KeyPart.of(v);
        }
        case "bool" -> {
          boolean v = rs.getBoolean(column);
          return rs.wasNull() ? new KeyPart.Null() : KeyPart.of(v);
        }
        case "numeric" -> {
          return KeyPart.of(rs.getBigDecimal(column));
        }
        case "date" -> {
          return KeyPart.date(rs.getObject(column, LocalDate.class));
        }
        case "timestamp" -> {
          return KeyPart.timestamp(rs.getObject(column, LocalDateTime.class));
        }
        case "timestamptz" -> {
          OffsetDateTime v = rs.getObject(column, OffsetDateTime.class);
          return v == null ? new KeyPart.Null() : KeyPart.timestamptz(v.toInstant());
        }
        case "time" -> {
          return KeyPart.time(rs.getObject(column, LocalTime.class));
        }
        default -> {
          return KeyPart.text(rs.getString(column));
        }
      }
    }
  }

  /**
   * The key's column values as text, for binding as parameters that PostgreSQL casts to the
   * columns' types: {@code key} itself for one column, the array's elements for several.
   *
   * @throws IllegalArgumentException if a key of several columns is not a JSON array of that many
   *     values
   */
  public static List<String> decode(String key, int columns) {
    if (columns < 1) {
      throw new IllegalArgumentException("a key needs at least one column");
    }
    if (columns == 1) {
      return List.of(key);
    }
    JsonNode node;
    try {
      node = JSON.readTree(key);
    } catch (JsonProcessingException e) {
      node = null;
    }
    if (node == null || !node.isArray() || node.size() != columns) {
      throw new IllegalArgumentException(
          "the key is not a JSON array of "
              + columns
              + " values, which is how the relay writes the key of a table with "
              + columns
              + " key columns");
    }
    List<String> values = new ArrayList<>(columns);
    for (JsonNode n : node) {
      if (n.isNull()) {
        values.add(null);
      } else if (n.isBigDecimal()) {
        values.add(n.decimalValue().toPlainString());
      } else if (n.isValueNode()) {
        values.add(n.asText());
      } else {
        values.add(n.toString());
      }
    }
    return values;
  }
}
