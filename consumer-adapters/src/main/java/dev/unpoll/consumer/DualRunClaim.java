package dev.unpoll.consumer;

import dev.unpoll.consumer.internal.Sql;
import dev.unpoll.consumer.internal.Validation;
import dev.unpoll.contract.KeyCodec;
import dev.unpoll.contract.config.TableMapping;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dual-run claim: while the poller still runs, the consumer claims a legacy row through the
 * poller's own status transition, {@code UPDATE table SET status = done WHERE key = ? AND status IN
 * (pending...)}, in the handler's transaction.
 *
 * <p>Zero rows updated does not by itself mean the poller won: PostgreSQL decodes a commit before
 * it becomes visible to other sessions, so the event can arrive before its row can be seen, and a
 * poller may hold the row in an in-progress or failed status and hand it back to pending later. The
 * claim therefore looks at the row in the same transaction (see {@link #claim}): only a row in a
 * done status is {@link Result#POLLER_WON}; a row that is absent although the event's source
 * transaction is visible was deleted ({@link Result#ROW_DELETED}); anything else throws {@link
 * ClaimNotDecidedException}, which rolls back and is retried.
 *
 * <p>The row's key comes from the Kafka record key in the canonical form of
 * docs/reference/event-format.md: the value as text for one key column, a JSON array in key-column
 * order for several. Values are bound untyped, so PostgreSQL casts them to the column's type.
 */
public final class DualRunClaim {

  private final String schema;
  private final String table;
  private final List<String> keyColumns;
  private final String statusColumn;
  private final List<String> pendingValues;
  private final String doneValue;
  private final List<String> doneValues;
  private final List<String> inProgressValues;
  private final List<String> failedValues;
  private final String processedAtColumn;
  private final String sql;
  private final String inspectSql;
  // the key columns' types, read once from the catalog by the first batch claim
  private volatile KeyTypes keyTypes;

  private DualRunClaim(Builder b) {
    this.schema = b.schema;
    this.table = b.table;
    this.keyColumns = List.copyOf(b.keyColumns);
    this.statusColumn = b.statusColumn;
    this.pendingValues = List.copyOf(b.pendingValues);
    this.doneValue = b.doneValue;
    List<String> done = new ArrayList<>(List.of(b.doneValue));
    b.otherDoneValues.stream().filter(v -> !done.contains(v)).forEach(done::add);
    this.doneValues = List.copyOf(done);
    this.inProgressValues = List.copyOf(b.inProgressValues);
    this.failedValues = List.copyOf(b.failedValues);
    this.processedAtColumn = b.processedAtColumn;
    StringBuilder s = updateSet("");
    s.append(" WHERE ");
    for (String k : keyColumns) {
      s.append(Sql.quote(k)).append(" = ? AND ");
    }
    s.append(Sql.quote(statusColumn)).append(" IN (");
    for (int i = 0; i < pendingValues.size(); i++) {
      s.append(i == 0 ? "?" : ", ?");
    }
    this.sql = s.append(')').toString();
    // One statement, so one snapshot: whether the event's source transaction is visible and
    // whether the row is there are judged against the same view of the database.
    StringBuilder where = new StringBuilder();
    for (String k : keyColumns) {
      where.append(where.length() == 0 ? " WHERE " : " AND ").append(Sql.quote(k)).append(" = ?");
    }
    this.inspectSql =
        "WITH p AS (SELECT ?::bigint AS raw, pg_current_snapshot() AS snap),"
            + " x AS (SELECT snap, "
            + widenedXid("raw", "snap")
            + " AS xid FROM p)"
            + " SELECT (SELECT "
            + Sql.quote(statusColumn)
            + "::text FROM "
            + Sql.qualified(schema, table)
            + where
            + " LIMIT 1) AS status, EXISTS (SELECT 1 FROM "
            + Sql.qualified(schema, table)
            + where
            + ") AS present, CASE WHEN xid IS NULL THEN NULL"
            + " ELSE pg_visible_in_snapshot(xid, snap) END AS visible,"
            + " CASE WHEN xid IS NULL OR xid >= pg_snapshot_xmax(snap) THEN NULL"
            + " ELSE pg_xact_status(xid) END AS xact FROM x";
  }

  /** {@code UPDATE table<alias> SET status = ?[, processed_at = now()]}: both claims' start. */
  private StringBuilder updateSet(String alias) {
    StringBuilder s =
        new StringBuilder("UPDATE ")
            .append(Sql.qualified(schema, table))
            .append(alias)
            .append(" SET ")
            .append(Sql.quote(statusColumn))
            .append(" = ?");
    if (processedAtColumn != null) {
      s.append(", ").append(Sql.quote(processedAtColumn)).append(" = now()");
    }
    return s;
  }

  /**
   * SQL for the 64-bit {@code xid8} of a transaction id the relay reports ({@code unpoll_txid}:
   * pgoutput's 32-bit xid, or already 64-bit), read against {@code snapshot}. The 32-bit value is
   * placed at the signed 32-bit distance from the snapshot's xmax, as PostgreSQL's own {@code
   * TransactionIdPrecedes} compares xids: a transaction at or past xmax (decoded, not yet visible,
   * the case the claim must not take for a deleted row) stays in xmax's epoch, and one just before
   * an epoch boundary stays in the previous epoch.
   */
  static String widenedXid(String raw, String snapshot) {
    String xmax = "pg_snapshot_xmax(" + snapshot + ")::text::bigint";
    return "CASE WHEN "
        + raw
        + " IS NULL THEN NULL WHEN "
        + raw
        + " > 4294967295 THEN "
        + raw
        + "::text::xid8 ELSE GREATEST("
        + xmax
        + " + ((("
        + raw
        + " - ("
        + xmax
        + " & 4294967295) + 2147483648) & 4294967295) - 2147483648), 0)::text::xid8 END";
  }

  /** What a claim found. Every other case throws {@link ClaimNotDecidedException}. */
  public enum Result {
    /** This transaction set the row to the done status: run the handler. */
    CLAIMED,
    /** The row is in a done status: the poller handled it. */
    POLLER_WON,
    /**
     * The row is gone although the transaction that inserted it is committed and visible: it was
     * deleted (or its key changed) after it was written, by the poller's cleanup or by the
     * application. The event is not handled: the poller would not handle a deleted row either.
     */
    ROW_DELETED
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

  /** The statuses that mean "handled", the first being the one the claim sets. */
  public List<String> doneValues() {
    return doneValues;
  }

  /** The statuses the poller sets while it works on a row: never counted as its win. */
  public List<String> inProgressValues() {
    return inProgressValues;
  }

  /** The statuses the poller sets after a failure: never counted as its win. */
  public List<String> failedValues() {
    return failedValues;
  }

  /**
   * Runs the claim update on the caller's connection; when it matches no pending row, looks at the
   * row in the same transaction to tell a poller's win from a row that is not decided yet.
   *
   * @return {@link Result#CLAIMED} if this transaction claimed the row, {@link Result#POLLER_WON}
   *     if the row is in a done status, {@link Result#ROW_DELETED} if it was deleted
   * @throws ClaimNotDecidedException (retryable) if the row is pending again, in progress, failed,
   *     in an unknown status, not visible yet, or absent with no way to tell why
   * @throws NonRetryableException if the record key does not fit the key columns
   */
  public Result claim(Connection connection, InboundEvent event) throws SQLException {
    List<String> key = keyValues(event);
    if (update(connection, key)) {
      return Result.CLAIMED;
    }
    Long txid = txid(event);
    String status;
    boolean present;
    Boolean visible;
    String xact;
    try (PreparedStatement ps = connection.prepareStatement(inspectSql)) {
      int i = 1;
      if (txid == null) {
        ps.setNull(i++, Types.BIGINT);
      } else {
        ps.setLong(i++, txid);
      }
      for (int round = 0; round < 2; round++) {
        for (String v : key) {
          ps.setObject(i++, v, Types.OTHER);
        }
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        status = rs.getString(1);
        present = rs.getBoolean(2);
        visible = (Boolean) rs.getObject(3);
        xact = rs.getString(4);
      }
    }
    String where = qualifiedTable() + " key " + key + " (" + event.coordinates() + ")";
    if (present) {
      if (status != null && doneValues.contains(status)) {
        return Result.POLLER_WON;
      }
      if (status != null && pendingValues.contains(status)) {
        // the row became visible after the update's snapshot: claim it now
        if (update(connection, key)) {
          return Result.CLAIMED;
        }
        throw notDecided(ClaimNotDecidedException.Reason.PENDING, where, "is pending again");
      }
      if (status != null && inProgressValues.contains(status)) {
        throw notDecided(
            ClaimNotDecidedException.Reason.IN_PROGRESS,
            where,
            "is in progress at the poller (status '" + status + "')");
      }
      if (status != null && failedValues.contains(status)) {
        throw notDecided(
            ClaimNotDecidedException.Reason.FAILED,
            where,
            "failed at the poller (status '" + status + "') and may be re-queued");
      }
      throw notDecided(
          ClaimNotDecidedException.Reason.UNKNOWN_STATUS,
          where,
          "has status "
              + (status == null ? "NULL" : "'" + status + "'")
              + ", which is none of pending "
              + pendingValues
              + ", in-progress "
              + inProgressValues
              + ", failed "
              + failedValues
              + ", done "
              + doneValues
              + "; add it to the mapping's status values");
    }
    if (visible == null) {
      throw notDecided(
          ClaimNotDecidedException.Reason.ABSENT_UNKNOWN,
          where,
          "is not there and the record has no "
              + InboundEvent.UNPOLL_TXID
              + " header to tell a commit in flight from a deleted row");
    }
    if (!visible) {
      throw notDecided(
          ClaimNotDecidedException.Reason.NOT_VISIBLE_YET,
          where,
          "is not visible yet: source transaction "
              + txid
              + " is "
              + (xact == null ? "not finished" : xact)
              + " but not yet visible to this session");
    }
    return Result.ROW_DELETED;
  }

  /**
   * Claims the rows of a batch with one statement: {@code UPDATE table SET status = done FROM
   * unnest(keys) WITH ORDINALITY WHERE key = k AND status IN (pending...) RETURNING ordinality}.
   * Only the claimed rows are decided here; every other key must go through {@link #claim} (which
   * updates once more and looks at the row), exactly as a single event would. The answer is read by
   * position in {@code keys}, never by comparing the row's key as text with the record key: the
   * column's text form may differ from the record's ({@code 007} for a bigint 7, a timestamptz in
   * another zone), and a claimed row taken for unclaimed would find itself done and be counted as
   * the poller's win, its event never handled.
   *
   * <p>The record keys are cast to the key columns' types, so the join uses the table's key index
   * as the single-row claim does. The types are read once from {@code pg_attribute} and named
   * without type modifiers ({@code format_type(type, -1)}: {@code bpchar}, not {@code character},
   * which PostgreSQL reads as {@code char(1)}), so a record key is never cut to a column's length
   * into another row's key. Every claim statement also returns the columns' current type ids, read
   * under the statement's own lock on the table: if they are not the ones read before (the table
   * was altered since), the statement's claims are rolled back with the transaction (it throws),
   * the types are read again on the next call, and the runner handles the batch's records one by
   * one meanwhile. A key that occurs twice in {@code keys} is claimed at its first position only.
   *
   * @param keys the decoded record keys (see {@link #keyValues}), in batch order
   * @return the positions in {@code keys} whose rows this transaction claimed
   * @throws SQLException also when the key columns' types changed since they were read
   */
  BitSet claimAll(Connection connection, List<List<String>> keys) throws SQLException {
    BitSet claimed = new BitSet(keys.size());
    Map<List<String>, Integer> first = new LinkedHashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      first.putIfAbsent(keys.get(i), i);
    }
    List<Integer> positions = new ArrayList<>(first.values());
    // PostgreSQL takes at most 65,535 parameters, but arrays are one parameter each: one chunk
    // per statement keeps memory bounded for an unusually large poll
    for (int from = 0; from < positions.size(); from += BATCH_CHUNK) {
      List<Integer> chunk = positions.subList(from, Math.min(positions.size(), from + BATCH_CHUNK));
      KeyTypes types = keyTypes(connection);
      try (PreparedStatement ps = connection.prepareStatement(batchSql(types))) {
        int p = 1;
        ps.setObject(p++, doneValue, Types.OTHER);
        for (int col = 0; col < keyColumns.size(); col++) {
          String[] values = new String[chunk.size()];
          for (int j = 0; j < chunk.size(); j++) {
            values[j] = keys.get(chunk.get(j)).get(col);
          }
          ps.setArray(p++, connection.createArrayOf("text", values));
        }
        for (String v : pendingValues) {
          ps.setObject(p++, v, Types.OTHER);
        }
        p = bindTypeCheck(connection, ps, p);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String now = rs.getString(2);
            if (!types.oids().equals(now)) {
              throw new SQLException(
                  "claim on "
                      + qualifiedTable()
                      + ": the key columns' types changed since they were read (type ids "
                      + types.oids()
                      + ", now "
                      + now
                      + "); the batch is rolled back and its records handled one by one");
            }
            claimed.set(chunk.get((int) rs.getLong(1) - 1));
          }
        }
      } catch (SQLException e) {
        keyTypes = null; // a key column's type may have changed: read them again next time
        throw e;
      }
    }
    return claimed;
  }

  /** Keys per batch claim statement. */
  static final int BATCH_CHUNK = 5_000;

  /**
   * The key columns' types as read from the catalog: their names for the casts, in key order, and
   * their type ids in key order as PostgreSQL prints an {@code oid[]}, to compare with what each
   * claim statement reads.
   */
  record KeyTypes(List<String> names, String oids) {}

  /**
   * The key columns' type ids, in key order, as PostgreSQL prints an {@code oid[]}; parameters: the
   * key columns, the table, the key columns.
   */
  private static final String KEY_TYPE_OIDS =
      "SELECT array_agg(a.atttypid ORDER BY array_position(?::text[], a.attname::text))::text"
          + " FROM pg_attribute a WHERE a.attrelid = ?::regclass"
          + " AND a.attname = ANY(?::text[]) AND NOT a.attisdropped";

  String batchSql(Connection connection) throws SQLException {
    return batchSql(keyTypes(connection));
  }

  private String batchSql(KeyTypes types) {
    StringBuilder s = updateSet(" AS unpoll_t");
    s.append(" FROM unnest(");
    for (int i = 0; i < keyColumns.size(); i++) {
      s.append(i == 0 ? "" : ", ").append("?::text[]");
    }
    s.append(") WITH ORDINALITY AS unpoll_k(");
    for (int i = 0; i < keyColumns.size(); i++) {
      s.append("k").append(i).append(", ");
    }
    s.append("n) WHERE ");
    for (int i = 0; i < keyColumns.size(); i++) {
      s.append("unpoll_t.")
          .append(Sql.quote(keyColumns.get(i)))
          .append(" = unpoll_k.k")
          .append(i)
          .append("::")
          .append(types.names().get(i))
          .append(" AND ");
    }
    s.append("unpoll_t.").append(Sql.quote(statusColumn)).append(" IN (");
    for (int i = 0; i < pendingValues.size(); i++) {
      s.append(i == 0 ? "?" : ", ?");
    }
    // the type check's parameters come last: they are numbered in the order of the text
    return s.append(") RETURNING unpoll_k.n, (").append(KEY_TYPE_OIDS).append(')').toString();
  }

  private int bindTypeCheck(Connection connection, PreparedStatement ps, int p)
      throws SQLException {
    ps.setArray(p++, connection.createArrayOf("text", keyColumns.toArray()));
    ps.setString(p++, qualifiedTable());
    ps.setArray(p++, connection.createArrayOf("text", keyColumns.toArray()));
    return p;
  }

  private KeyTypes keyTypes(Connection connection) throws SQLException {
    KeyTypes types = keyTypes;
    if (types != null) {
      return types;
    }
    Map<String, String> byColumn = new HashMap<>();
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT attname, format_type(atttypid, -1) FROM pg_attribute"
                + " WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped")) {
      ps.setString(1, qualifiedTable());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          byColumn.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    List<String> names = new ArrayList<>();
    for (String k : keyColumns) {
      String type = byColumn.get(k);
      if (type == null) {
        throw new NonRetryableException(
            "claim on "
                + qualifiedTable()
                + ": key column "
                + Sql.quote(k)
                + " is not a column of the table (it has "
                + byColumn.keySet().stream().sorted().toList()
                + "); fix key in the table's mapping or keyColumns(..)");
      }
      names.add(type);
    }
    String oids;
    try (PreparedStatement ps = connection.prepareStatement(KEY_TYPE_OIDS)) {
      bindTypeCheck(connection, ps, 1);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        oids = rs.getString(1);
      }
    }
    keyTypes = new KeyTypes(List.copyOf(names), oids);
    return keyTypes;
  }

  private boolean update(Connection connection, List<String> key) throws SQLException {
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

  private static Long txid(InboundEvent event) {
    return event
        .header(InboundEvent.UNPOLL_TXID)
        .map(
            v -> {
              try {
                long x = Long.parseLong(v.trim());
                return x < 0 ? null : x;
              } catch (NumberFormatException e) {
                return null;
              }
            })
        .orElse(null);
  }

  private static ClaimNotDecidedException notDecided(
      ClaimNotDecidedException.Reason reason, String where, String what) {
    return new ClaimNotDecidedException(
        reason,
        "claim not decided ("
            + reason
            + "): row of "
            + where
            + " "
            + what
            + "; the event will be retried");
  }

  List<String> keyValues(InboundEvent event) {
    String raw = event.keyAsString();
    if (raw == null) {
      throw new NonRetryableException(
          "claim on " + qualifiedTable() + ": record " + event.coordinates() + " has no key");
    }
    try {
      return KeyCodec.decode(raw, keyColumns.size());
    } catch (IllegalArgumentException e) {
      throw new NonRetryableException(
          "claim on "
              + qualifiedTable()
              + ": record key of "
              + event.coordinates()
              + " does not fit key columns "
              + keyColumns
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * A builder filled from the table's mapping in {@code unpoll.yaml}, so the table, its key columns
   * and the status values are written once, where the relay and {@code unpoll verify} read them
   * too: the status column, its pending values, its first done value (the one the claim sets; the
   * others count as the poller's win), its in-progress and failed values, and its {@code
   * processed-at-column} (see {@link Builder#processedAtColumn}). The builder may change any of
   * them.
   *
   * <pre>{@code
   * TableMapping mapping = UnpollConfig.loadMapping(Path.of("unpoll.yaml"), "shop.order_integration");
   * DualRunClaim claim = DualRunClaim.from(mapping).processedAtColumn("processed_at").build();
   * }</pre>
   *
   * <p>{@link Builder#build()} reports a mapping without {@code key} columns or without a {@code
   * status} with pending and done values, naming the setting to add.
   */
  public static Builder from(TableMapping mapping) {
    Builder b = new Builder();
    b.schema = mapping.table().schema();
    b.table = mapping.table().table();
    b.keyColumns = mapping.key();
    b.fromMapping = mapping.table().display();
    b.processedAtColumn = mapping.processedAtColumn().orElse(null);
    if (mapping.status().isPresent()) {
      TableMapping.Status st = mapping.status().get();
      b.statusColumn = st.column();
      b.pendingValues = st.pending();
      b.doneValue = st.done().isEmpty() ? null : st.done().get(0);
      b.otherDoneValues = st.done().isEmpty() ? List.of() : st.done().subList(1, st.done().size());
      b.inProgressValues = st.inProgress();
      b.failedValues = st.failed();
    } else {
      b.statusColumn = null;
    }
    return b;
  }

  /** Builds a {@link DualRunClaim}. */
  public static final class Builder {
    private String fromMapping;
    private String schema;
    private String table;
    private List<String> keyColumns = List.of();
    private String statusColumn = DEFAULT_STATUS_COLUMN;
    private List<String> pendingValues = List.of(DEFAULT_PENDING_VALUE);
    private String doneValue = DEFAULT_DONE_VALUE;
    private List<String> otherDoneValues = List.of();
    private List<String> inProgressValues = List.of();
    private List<String> failedValues = List.of();
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
     * Further statuses that mean "the poller finished this row" besides {@link #doneValue} (e.g.
     * {@code SKIPPED}); a claim that finds one counts the event as won by the poller. Default none.
     */
    public Builder otherDoneValues(String... values) {
      this.otherDoneValues = java.util.Arrays.asList(values.clone());
      return this;
    }

    /**
     * Statuses the poller sets while it works on a row (e.g. {@code PROCESSING}); a claim that
     * finds one throws {@link ClaimNotDecidedException}, so the event is retried. Default none.
     */
    public Builder inProgressValues(String... values) {
      this.inProgressValues = java.util.Arrays.asList(values.clone());
      return this;
    }

    /**
     * Statuses the poller sets when handling failed and from which it may re-queue the row (e.g.
     * {@code FAILED}); a claim that finds one throws {@link ClaimNotDecidedException}. Default
     * none.
     */
    public Builder failedValues(String... values) {
      this.failedValues = java.util.Arrays.asList(values.clone());
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
      } else if (schema == null && table.indexOf('.') > 0) {
        // table(..) takes one name, quoted as written: "shop.orders" would be a table of that
        // name in the current schema, and every claim would fail with "relation does not exist"
        int dot = table.indexOf('.');
        problems.add(
            "table: '"
                + table
                + "' looks schema-qualified, but table(..) takes the table's name alone (it is"
                + " quoted as one name); use schema(\""
                + table.substring(0, dot)
                + "\").table(\""
                + table.substring(dot + 1)
                + "\"), or DualRunClaim.from(mapping); for a table whose name has a dot, set"
                + " schema(..) too");
      }
      if (fromMapping != null && statusColumn == null) {
        problems.add(
            "status: the mapping of "
                + fromMapping
                + " has no status section; the claim takes the poller's transition from it:"
                + " add status: {column: .., pending: [..], done: [..]} to the mapping in"
                + " unpoll.yaml");
        Validation.throwIfAny("DualRunClaim", problems);
      }
      if (keyColumns.isEmpty()) {
        problems.add(
            fromMapping != null
                ? "key: the mapping of "
                    + fromMapping
                    + " names no key columns (the relay keys by the primary key); write them as"
                    + " key: [..] in unpoll.yaml, in the primary key's order, or call keyColumns(..)"
                : "keyColumns: missing; name the key columns in canonical key order, e.g. id");
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
        problems.add(
            fromMapping != null
                ? "status.done: the mapping of "
                    + fromMapping
                    + " has no done value; add the status the poller sets when it finished a row"
                : "doneValue: missing, e.g. DONE");
      }
      checkDisjoint(problems, "otherDoneValues", otherDoneValues);
      checkDisjoint(problems, "inProgressValues", inProgressValues);
      checkDisjoint(problems, "failedValues", failedValues);
      for (String v : inProgressValues) {
        if (failedValues.contains(v) || otherDoneValues.contains(v)) {
          problems.add("inProgressValues: '" + v + "' is also a failed or done value; pick one");
        }
      }
      for (String v : failedValues) {
        if (otherDoneValues.contains(v)) {
          problems.add("failedValues: '" + v + "' is also a done value; pick one");
        }
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

    private void checkDisjoint(List<String> problems, String setting, List<String> values) {
      if (values.stream().anyMatch(java.util.Objects::isNull)) {
        problems.add(setting + ": " + values + " must not contain null");
        return;
      }
      for (String v : values) {
        if (pendingValues.contains(v)
            || (!setting.equals("otherDoneValues") && v.equals(doneValue))) {
          problems.add(
              setting
                  + ": '"
                  + v
                  + "' is also a pending or the done value; each status means one thing");
        }
      }
    }

    private static String invalid(String setting, String value) {
      return setting + ": '" + value + "' is not a valid identifier (" + Sql.identifierRule() + ")";
    }
  }

  /** Default status column. */
  public static final String DEFAULT_STATUS_COLUMN = "status";

  /** Default pending status. */
  public static final String DEFAULT_PENDING_VALUE = "NEW";

  /** Default done status. */
  public static final String DEFAULT_DONE_VALUE = "DONE";
}
