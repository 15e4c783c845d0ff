package dev.unpoll.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.consumer.internal.Sql;
import dev.unpoll.consumer.internal.Validation;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/**
 * Dual-run claim: while the poller still runs, the consumer claims a legacy row through the
 * poller's own status transition, {@code UPDATE table SET status = done WHERE key = ? AND status IN
 * (pending...)}, in the handler's transaction. Zero rows updated means the poller had the row
 * first: the handler is skipped and the event counted as "poller won".
 *
 * <p>The row's key comes from the Kafka record key in the canonical form of
 * docs/reference/event-format.md: the value as text for one key column, a JSON array in key-column
 * order for several. Values are bound untyped, so PostgreSQL casts them to the column's type.
 */
public final class DualRunClaim {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String schema;
  private final String table;
  private final List<String> keyColumns;
  private final String statusColumn;
  private final List<String> pendingValues;
  private final String doneValue;
  private final String processedAtColumn;
  private final String sql;

  private DualRunClaim(Builder b) {
    this.schema = b.schema;
    this.table = b.table;
    this.keyColumns = List.copyOf(b.keyColumns);
    this.statusColumn = b.statusColumn;
    this.pendingValues = List.copyOf(b.pendingValues);
    this.doneValue = b.doneValue;
    this.processedAtColumn = b.processedAtColumn;
    StringBuilder s =
        new StringBuilder("UPDATE ")
            .append(Sql.qualified(schema, table))
            .append(" SET ")
            .append(Sql.quote(statusColumn))
            .append(" = ?");
    if (processedAtColumn != null) {
      s.append(", ").append(Sql.quote(processedAtColumn)).append(" = now()");
    }
    s.append(" WHERE ");
    for (String k : keyColumns) {
      s.append(Sql.quote(k)).append(" = ? AND ");
    }
    s.append(Sql.quote(statusColumn)).append(" IN (");
    for (int i = 0; i < pendingValues.size(); i++) {
      s.append(i == 0 ? "?" : ", ?");
    }
    this.sql = s.append(')').toString();
  }

  /** A builder; table and key columns are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The claim statement, with identifiers quoted; for logs and docs. */
  public String sql() {
    return sql;
  }

  /** The legacy table's qualified, quoted name. */
  public String qualifiedTable() {
    return Sql.qualified(schema, table);
  }

  /**
   * Runs the claim update on the caller's connection.
   *
   * @return true if this transaction claimed the row, false if it was no longer pending
   * @throws NonRetryableException if the record key does not fit the key columns
   */
  public boolean claim(Connection connection, InboundEvent event) throws SQLException {
    List<String> key = keyValues(event);
    try (PreparedStatement ps = connection.prepareStatement(sql)) {
      int i = 1;
      ps.setObject(i++, doneValue, Types.OTHER);
      for (String v : key) {
        ps.setObject(i++, v, Types.OTHER);
      }
      for (String p : pendingValues) {
        ps.setObject(i++, p, Types.OTHER);
      }
      return ps.executeUpdate() > 0;
    }
  }

  List<String> keyValues(InboundEvent event) {
    String raw = event.keyAsString();
    if (raw == null) {
      throw new NonRetryableException(
          "claim on " + qualifiedTable() + ": record " + event.coordinates() + " has no key");
    }
    if (keyColumns.size() == 1) {
      return List.of(raw);
    }
    try {
      JsonNode node = JSON.readTree(raw);
      if (node == null || !node.isArray() || node.size() != keyColumns.size()) {
        throw new NonRetryableException(
            "claim on "
                + qualifiedTable()
                + ": record key of "
                + event.coordinates()
                + " is not a JSON array of "
                + keyColumns.size()
                + " values "
                + keyColumns);
      }
      List<String> values = new ArrayList<>();
      node.forEach(n -> values.add(n.isValueNode() ? n.asText() : n.toString()));
      return values;
    } catch (IOException e) {
      throw new NonRetryableException(
          "claim on "
              + qualifiedTable()
              + ": record key of "
              + event.coordinates()
              + " is not valid JSON",
          e);
    }
  }

  /** Builds a {@link DualRunClaim}. */
  public static final class Builder {
    private String schema;
    private String table;
    private List<String> keyColumns = List.of();
    private String statusColumn = DEFAULT_STATUS_COLUMN;
    private List<String> pendingValues = List.of(DEFAULT_PENDING_VALUE);
    private String doneValue = DEFAULT_DONE_VALUE;
    private String processedAtColumn;

    private Builder() {}

    /** Schema of the legacy table; default the connection's current schema. */
    public Builder schema(String schema) {
      this.schema = schema;
      return this;
    }

    /** The legacy table the poller reads. Required. */
    public Builder table(String table) {
      this.table = table;
      return this;
    }

    /** Key columns in the order of the canonical record key. Required. */
    public Builder keyColumns(String... keyColumns) {
      this.keyColumns = java.util.Arrays.asList(keyColumns.clone());
      return this;
    }

    /** The poller's status column; default {@value DualRunClaim#DEFAULT_STATUS_COLUMN}. */
    public Builder statusColumn(String statusColumn) {
      this.statusColumn = statusColumn;
      return this;
    }

    /** Statuses meaning "not handled yet"; default {@value DualRunClaim#DEFAULT_PENDING_VALUE}. */
    public Builder pendingValues(String... pendingValues) {
      this.pendingValues = java.util.Arrays.asList(pendingValues.clone());
      return this;
    }

    /** Status the claim sets; default {@value DualRunClaim#DEFAULT_DONE_VALUE}. */
    public Builder doneValue(String doneValue) {
      this.doneValue = doneValue;
      return this;
    }

    /**
     * Optional: a timestamp column the poller sets when it finishes a row ({@code processed_at});
     * the claim sets it to {@code now()} too, so reports see both paths alike. Default none.
     */
    public Builder processedAtColumn(String processedAtColumn) {
      this.processedAtColumn = processedAtColumn;
      return this;
    }

    /** Validates every setting and reports all problems at once. */
    public DualRunClaim build() {
      List<String> problems = new ArrayList<>();
      if (schema != null && !Sql.isValidIdentifier(schema)) {
        problems.add(invalid("schema", schema));
      }
      if (table == null) {
        problems.add("table: missing; name the legacy table the poller reads");
      } else if (!Sql.isValidIdentifier(table)) {
        problems.add(invalid("table", table));
      }
      if (keyColumns.isEmpty()) {
        problems.add("keyColumns: missing; name the key columns in canonical key order, e.g. id");
      }
      for (int i = 0; i < keyColumns.size(); i++) {
        if (!Sql.isValidIdentifier(keyColumns.get(i))) {
          problems.add(invalid("keyColumns[" + i + "]", keyColumns.get(i)));
        }
      }
      if (!Sql.isValidIdentifier(statusColumn)) {
        problems.add(invalid("statusColumn", statusColumn));
      } else if (keyColumns.contains(statusColumn)) {
        problems.add("statusColumn: '" + statusColumn + "' is also a key column; use another");
      }
      if (pendingValues.isEmpty() || pendingValues.stream().anyMatch(java.util.Objects::isNull)) {
        problems.add("pendingValues: " + pendingValues + " must hold at least one value, e.g. NEW");
      } else if (doneValue != null && pendingValues.contains(doneValue)) {
        problems.add(
            "doneValue: '" + doneValue + "' is also a pending value; the claim would never stick");
      }
      if (doneValue == null) {
        problems.add("doneValue: missing, e.g. DONE");
      }
      if (processedAtColumn != null) {
        if (!Sql.isValidIdentifier(processedAtColumn)) {
          problems.add(invalid("processedAtColumn", processedAtColumn));
        } else if (processedAtColumn.equals(statusColumn)
            || keyColumns.contains(processedAtColumn)) {
          problems.add(
              "processedAtColumn: '"
                  + processedAtColumn
                  + "' is already the status or a key column; name the timestamp column");
        }
      }
      Validation.throwIfAny("DualRunClaim", problems);
      return new DualRunClaim(this);
    }

    private static String invalid(String setting, String value) {
      return setting
          + ": '"
          + value
          + "' is not a valid identifier (must match "
          + Sql.identifierRule()
          + ")";
    }
  }

  /** Default status column. */
  public static final String DEFAULT_STATUS_COLUMN = "status";

  /** Default pending status. */
  public static final String DEFAULT_PENDING_VALUE = "NEW";

  /** Default done status. */
  public static final String DEFAULT_DONE_VALUE = "DONE";
}
