package dev.unpoll.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A legacy table row as the relay publishes it (docs/reference/event-format.md: a JSON object of
 * the row's columns), read back with typed getters shaped like {@link java.sql.ResultSet}'s, so a
 * poller's row-handling code ports by replacing {@code rs.getLong("id")} with {@code
 * row.getLong("id")}. SQL NULL reads as null (or 0/false for primitives, as JDBC does).
 */
public final class LegacyRow {
  private final Map<String, JsonNode> columns;

  private LegacyRow(Map<String, JsonNode> columns) {
    this.columns = Collections.unmodifiableMap(columns);
  }

  /**
   * Parses an event's value.
   *
   * @throws NonRetryableException if the value is not a JSON object
   */
  public static LegacyRow of(InboundEvent event, ObjectMapper mapper) {
    JsonNode node;
    try {
      node = event.value() == null ? null : mapper.readTree(event.value());
    } catch (IOException e) {
      throw new NonRetryableException(
          event.coordinates() + ": value is not JSON; a legacy row is a JSON object", e);
    }
    if (node == null || !node.isObject()) {
      throw new NonRetryableException(
          event.coordinates() + ": value is not a JSON object of columns");
    }
    Map<String, JsonNode> cols = new LinkedHashMap<>();
    node.properties().forEach(e -> cols.put(e.getKey(), e.getValue()));
    return new LegacyRow(cols);
  }

  /** Column names in the event's order. */
  public Set<String> columns() {
    return columns.keySet();
  }

  /** True if the event carries this column. */
  public boolean has(String column) {
    return columns.containsKey(column);
  }

  private JsonNode node(String column) {
    if (!columns.containsKey(column)) {
      throw new NonRetryableException(
          "column '" + column + "' is not in the event (columns: " + columns.keySet() + ")");
    }
    JsonNode n = columns.get(column);
    return n == null || n.isNull() ? null : n;
  }

  /** True if the column is SQL NULL. */
  public boolean isNull(String column) {
    return node(column) == null;
  }

  /**
   * The column as a plain Java value: Long or BigDecimal for numbers (exact digits), Boolean,
   * String, or for JSON columns a {@code Map}/{@code List}; null for NULL.
   */
  public Object getObject(String column) {
    JsonNode n = node(column);
    if (n == null) {
      return null;
    }
    if (n.isIntegralNumber() && n.canConvertToLong()) {
      return n.asLong();
    }
    if (n.isNumber()) {
      return n.decimalValue();
    }
    if (n.isBoolean()) {
      return n.booleanValue();
    }
    if (n.isTextual()) {
      return n.textValue();
    }
    return new ObjectMapper().convertValue(n, Object.class);
  }

  /** Text columns (and any other value as its JSON text). */
  public String getString(String column) {
    JsonNode n = node(column);
    return n == null ? null : n.isValueNode() ? n.asText() : n.toString();
  }

  /** Integer columns; 0 for NULL, like JDBC. */
  public long getLong(String column) {
    JsonNode n = node(column);
    return n == null ? 0 : n.isTextual() ? Long.parseLong(n.textValue()) : n.longValue();
  }

  /** Integer columns; 0 for NULL, like JDBC. */
  public int getInt(String column) {
    return Math.toIntExact(getLong(column));
  }

  /** Boolean columns; false for NULL, like JDBC. */
  public boolean getBoolean(String column) {
    JsonNode n = node(column);
    return n != null && (n.isBoolean() ? n.booleanValue() : Boolean.parseBoolean(n.asText()));
  }

  /** Numeric columns with their exact digits. */
  public BigDecimal getBigDecimal(String column) {
    JsonNode n = node(column);
    return n == null ? null : n.isNumber() ? n.decimalValue() : new BigDecimal(n.asText());
  }

  /** uuid columns. */
  public UUID getUuid(String column) {
    String s = getString(column);
    return s == null ? null : UUID.fromString(s);
  }

  /** timestamptz columns (ISO-8601 with offset), or timestamp columns read as UTC. */
  public Instant getInstant(String column) {
    String s = getString(column);
    if (s == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(s).toInstant();
    } catch (java.time.format.DateTimeParseException e) {
      return LocalDateTime.parse(s).toInstant(ZoneOffset.UTC);
    }
  }

  /** timestamptz columns as {@code OffsetDateTime} (what pgjdbc returns for them). */
  public OffsetDateTime getOffsetDateTime(String column) {
    Instant i = getInstant(column);
    return i == null ? null : i.atOffset(ZoneOffset.UTC);
  }

  /** timestamp (without time zone) columns. */
  public LocalDateTime getLocalDateTime(String column) {
    String s = getString(column);
    return s == null ? null : LocalDateTime.parse(s);
  }

  /** date columns. */
  public LocalDate getLocalDate(String column) {
    String s = getString(column);
    return s == null ? null : LocalDate.parse(s);
  }

  /** bytea columns (base64 on the wire). */
  public byte[] getBytes(String column) {
    String s = getString(column);
    return s == null ? null : Base64.getDecoder().decode(s);
  }

  /** json/jsonb columns as a tree. */
  public JsonNode getJson(String column) {
    return node(column);
  }

  /** The columns as a map of {@link #getObject} values, in event order. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    columns.keySet().forEach(c -> m.put(c, getObject(c)));
    return m;
  }

  @Override
  public String toString() {
    return "LegacyRow" + columns.keySet(); // column names only: values may be personal data
  }
}
