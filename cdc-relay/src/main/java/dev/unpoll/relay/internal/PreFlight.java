package dev.unpoll.relay.internal;

import dev.unpoll.contract.OutboxFormat;
import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.contract.config.UnpollConfig.OffsetStore;
import dev.unpoll.mapping.EventMapper;
import dev.unpoll.relay.RelayConfigException;
import dev.unpoll.relay.RelayException;
import dev.unpoll.relay.RelaySlotException;
import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks made before the engine starts: tables and columns exist, the heartbeat table and the
 * publication are in place, and the slot is usable (never silently recreated when offsets exist).
 */
public final class PreFlight {

  private static final Logger LOG = LoggerFactory.getLogger(PreFlight.class);

  /** What the checks found. */
  public record Result(
      boolean slotExists,
      boolean offsetsExist,
      List<TableName> backlogTables,
      boolean publicationForAllTables) {}

  private final UnpollConfig config;

  /** Checks for this configuration. */
  public PreFlight(UnpollConfig config) {
    this.config = config;
  }

  /** Opens a plain JDBC connection to the source. */
  public static Connection connect(UnpollConfig.Source source) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", source.user());
    p.setProperty("password", source.password());
    p.setProperty("ApplicationName", "unpoll-relay");
    return DriverManager.getConnection(source.jdbcUrl(), p);
  }

  /** The table holding this relay's offsets in the source database. */
  public static String offsetTable(UnpollConfig config) {
    return RelayNames.offsetsTable(config.source().slot());
  }

  /**
   * Runs every check.
   *
   * @throws RelayConfigException when tables or columns are missing
   * @throws RelaySlotException when the slot or the publication is not usable
   */
  public Result run() {
    try (Connection c = connect(config.source())) {
      checkSchema(c);
      ensureHeartbeatTable(c);
      boolean forAllTables = checkPublication(c);
      boolean offsets = offsetsExist(c);
      boolean slot = checkSlot(c, offsets);
      List<TableName> backlog = backlogDue(c, offsets);
      if (!backlog.isEmpty() && offsets) {
        LOG.warn(
            "the backlog of {} is not recorded as done in {}: reading it now (a backlog snapshot"
                + " was interrupted, or the table is new to this relay); pending rows committed"
                + " since the relay's last offset may be published twice (same ce_id)",
            backlog,
            BacklogLedger.table(config));
      } else if (!backlog.isEmpty() && slot) {
        LOG.warn(
            "slot {} already exists but this relay has no offsets: the backlog of {} is read in a"
                + " snapshot that is not aligned with the slot, so rows committed between the"
                + " slot's creation and now may be published twice (ce_id makes them detectable)",
            config.source().slot(),
            backlog);
      }
      return new Result(slot, offsets, backlog, forAllTables);
    } catch (SQLException e) {
      throw new RelayException(
          "cannot check the source database "
              + config.source().jdbcUrl()
              + " as "
              + config.source().user()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * The backlog tables whose backlog is not recorded as done in the {@link BacklogLedger}: all of
   * them on a start without offsets, a table added to the configuration later, and every table of a
   * backlog snapshot that did not complete (its records all acknowledged) on an earlier run.
   * Without offsets the ledger is cleared: it only counts together with the offsets it was written
   * with (deleting the offsets restarts capture, and with it the backlog).
   */
  private List<TableName> backlogDue(Connection c, boolean offsets) throws SQLException {
    List<TableName> wanted = new ArrayList<>();
    for (TableMapping m : config.tables()) {
      if (m.backlog()) {
        wanted.add(m.table());
      }
    }
    if (wanted.isEmpty()) {
      return List.of();
    }
    BacklogLedger ledger = new BacklogLedger(config);
    try {
      ledger.ensure(c);
    } catch (SQLException e) {
      throw new RelayConfigException(
          List.of(
              "tables[*].backlog: the relay records finished backlogs in table "
                  + BacklogLedger.table(config)
                  + ", which is missing and "
                  + config.source().user()
                  + " cannot create it ("
                  + e.getMessage()
                  + "); run: "
                  + ledger.ddl()
                  + " (or give the relay a schema of its own: unpoll grants prints it)"));
    }
    if (!offsets) {
      ledger.reset(c);
      return List.copyOf(wanted);
    }
    Set<TableName> done = ledger.done(c);
    List<TableName> due = new ArrayList<>();
    for (TableName t : wanted) {
      if (!done.contains(t)) {
        due.add(t);
      }
    }
    return List.copyOf(due);
  }

  private void checkSchema(Connection c) throws SQLException {
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < config.tables().size(); i++) {
      TableMapping m = config.tables().get(i);
      String path = "tables[" + i + "]";
      Map<String, String> cols = columns(c, m.table());
      if (cols.isEmpty()) {
        problems.add(
            path
                + ".table: \""
                + m.table()
                + "\" does not exist or is not readable by "
                + config.source().user()
                + "; create it, fix the name (quote mixed case: '\"Sales\".\"OrderQueue\"') or grant SELECT");
        continue;
      }
      String known = " (columns: " + String.join(", ", cols.keySet()) + ")";
      for (int k = 0; k < m.key().size(); k++) {
        if (!cols.containsKey(m.key().get(k))) {
          problems.add(
              path
                  + ".key["
                  + k
                  + "]: column \""
                  + m.key().get(k)
                  + "\" does not exist in "
                  + m.table()
                  + known);
        }
      }
      if (m.key().isEmpty() && primaryKey(c, m.table()).isEmpty()) {
        problems.add(
            path
                + ".key: "
                + m.table()
                + " has no primary key; name the key columns, e.g. key: [id]");
      }
      Map<String, Optional<String>> named = new LinkedHashMap<>();
      named.put("payload-column", m.payloadColumn());
      named.put("created-at-column", m.createdAtColumn());
      named.put("processed-at-column", m.processedAtColumn());
      for (Map.Entry<String, Optional<String>> e : named.entrySet()) {
        if (e.getValue().isPresent() && !cols.containsKey(e.getValue().get())) {
          problems.add(
              path
                  + "."
                  + e.getKey()
                  + ": column \""
                  + e.getValue().get()
                  + "\" does not exist in "
                  + m.table()
                  + known);
        }
      }
      for (int k = 0; k < m.bookkeepingColumns().size(); k++) {
        String b = m.bookkeepingColumns().get(k);
        if (!cols.containsKey(b)) {
          problems.add(
              path
                  + ".bookkeeping-columns["
                  + k
                  + "]: column \""
                  + b
                  + "\" does not exist in "
                  + m.table()
                  + known);
        }
      }
      if (m.status().isPresent() && !cols.containsKey(m.status().get().column())) {
        problems.add(
            path
                + ".status.column: column \""
                + m.status().get().column()
                + "\" does not exist in "
                + m.table()
                + known);
      }
      if (m.emitUpdates() && !"f".equals(replicaIdentity(c, m.table()))) {
        problems.add(
            path
                + ".emit-updates: true needs the old row to tell business changes from bookkeeping ones;"
                + " run ALTER TABLE "
                + m.table().quoted()
                + " REPLICA IDENTITY FULL, or set emit-updates: false");
      }
    }
    if (config.outbox().isPresent() && config.outbox().get().table().isPresent()) {
      TableName t = config.outbox().get().table().get();
      Map<String, String> cols = columns(c, t);
      if (cols.isEmpty()) {
        problems.add(
            "outbox.table: \""
                + t
                + "\" does not exist; create it with outbox-core's DDL, or set"
                + " table: none to relay WAL messages only");
      } else {
        for (String role : OutboxFormat.RELAY_COLUMNS) {
          String col = config.outbox().get().column(role);
          if (!cols.containsKey(col)) {
            problems.add(
                "outbox.table: column \""
                    + col
                    + "\" is missing in "
                    + t
                    + " (columns: "
                    + String.join(", ", cols.keySet())
                    + "); use outbox-core's DDL, or name the renamed column in outbox.columns."
                    + role);
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new RelayConfigException(problems);
    }
  }

  private static Map<String, String> columns(Connection c, TableName t) throws SQLException {
    Map<String, String> cols = new LinkedHashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a"
                + " join pg_class r on r.oid = a.attrelid join pg_namespace n on n.oid = r.relnamespace"
                + " where n.nspname = ? and r.relname = ? and r.relkind in ('r','p') and a.attnum > 0"
                + " and not a.attisdropped order by a.attnum")) {
      ps.setString(1, t.schema());
      ps.setString(2, t.table());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          cols.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return cols;
  }

  private static List<String> primaryKey(Connection c, TableName t) throws SQLException {
    List<String> pk = new ArrayList<>();
    try (ResultSet rs = c.getMetaData().getPrimaryKeys(null, t.schema(), t.table())) {
      while (rs.next()) {
        pk.add(rs.getString("COLUMN_NAME"));
      }
    }
    return pk;
  }

  private static String replicaIdentity(Connection c, TableName t) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select r.relreplident from pg_class r join pg_namespace n on n.oid = r.relnamespace"
                + " where n.nspname = ? and r.relname = ?")) {
      ps.setString(1, t.schema());
      ps.setString(2, t.table());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private void ensureHeartbeatTable(Connection c) throws SQLException {
    if (!columns(c, EventMapper.HEARTBEAT_TABLE).isEmpty()) {
      checkHeartbeatWrite(c);
      return;
    }
    String ddl = heartbeatDdl();
    try (Statement s = c.createStatement()) {
      s.execute(ddl);
      LOG.info("created heartbeat table {}", EventMapper.HEARTBEAT_TABLE);
    } catch (SQLException e) {
      throw new RelayConfigException(
          List.of(
              "source: the heartbeat table "
                  + EventMapper.HEARTBEAT_TABLE
                  + " is missing and "
                  + config.source().user()
                  + " cannot create it ("
                  + e.getMessage()
                  + "); run: "
                  + ddl));
    }
  }

  /**
   * Writes this slot's heartbeat row once, as Debezium will: a user that may not write it would
   * only log an error at every heartbeat while the slot, with idle captured tables, pins WAL.
   */
  private void checkHeartbeatWrite(Connection c) {
    try (Statement s = c.createStatement()) {
      s.execute(heartbeatQuery(config.source().slot()));
    } catch (SQLException e) {
      throw new RelayConfigException(
          List.of(
              "source: "
                  + config.source().user()
                  + " cannot write the heartbeat table "
                  + EventMapper.HEARTBEAT_TABLE
                  + " ("
                  + e.getMessage()
                  + "): without heartbeats the slot pins WAL while the captured tables are idle;"
                  + " run: GRANT SELECT, INSERT, UPDATE ON TABLE "
                  + EventMapper.HEARTBEAT_TABLE.quoted()
                  + " TO "
                  + TableName.quote(config.source().user())
                  + " (unpoll grants prints the relay's least-privilege role)"));
    }
  }

  /** DDL of the heartbeat table. */
  public static String heartbeatDdl() {
    return RelayNames.heartbeatTableDdl();
  }

  /** The heartbeat statement Debezium runs. */
  public static String heartbeatQuery(String slot) {
    return "INSERT INTO "
        + EventMapper.HEARTBEAT_TABLE.quoted()
        + " (slot, beat_at) VALUES ('"
        + slot.replace("'", "''")
        + "', now()) ON CONFLICT (slot) DO UPDATE SET beat_at = excluded.beat_at";
  }

  /** Every table the publication must cover, in a stable order. */
  public static Set<TableName> capturedTables(UnpollConfig config) {
    Set<TableName> all = new LinkedHashSet<>();
    config.tables().forEach(m -> all.add(m.table()));
    config.outbox().flatMap(UnpollConfig.Outbox::table).ifPresent(all::add);
    all.add(EventMapper.HEARTBEAT_TABLE);
    return all;
  }

  /**
   * Checks (or creates) the publication; returns whether it is {@code FOR ALL TABLES}. A table in
   * the publication that the configuration does not map is refused: its changes would reach a relay
   * that has no mapping for them (a table captured for a newer configuration).
   */
  private boolean checkPublication(Connection c) throws SQLException {
    String pub = config.source().publication();
    Set<TableName> wanted = capturedTables(config);
    Boolean allTables = null;
    try (PreparedStatement ps =
        c.prepareStatement("select puballtables from pg_publication where pubname = ?")) {
      ps.setString(1, pub);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          allTables = rs.getBoolean(1);
        }
      }
    }
    List<String> quoted = wanted.stream().map(TableName::quoted).toList();
    if (allTables == null) {
      String sql =
          "CREATE PUBLICATION " + TableName.quote(pub) + " FOR TABLE " + String.join(", ", quoted);
      try (Statement s = c.createStatement()) {
        s.execute(sql);
        LOG.info("created publication {} for {}", pub, wanted);
        return false;
      } catch (SQLException e) {
        throw new RelaySlotException(
            "publication "
                + pub
                + " does not exist and "
                + config.source().user()
                + " cannot create it ("
                + e.getMessage()
                + "); run as the tables' owner: "
                + sql);
      }
    }
    if (allTables) {
      return true;
    }
    Set<TableName> present = new LinkedHashSet<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "select schemaname, tablename from pg_publication_tables where pubname = ?")) {
      ps.setString(1, pub);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          present.add(new TableName(rs.getString(1), rs.getString(2)));
        }
      }
    }
    List<TableName> missing = wanted.stream().filter(t -> !present.contains(t)).toList();
    if (!missing.isEmpty()) {
      throw new RelaySlotException(
          "publication "
              + pub
              + " does not cover "
              + missing
              + " (it has "
              + present
              + "): changes of those tables would never reach the relay; run: ALTER PUBLICATION "
              + TableName.quote(pub)
              + " ADD TABLE "
              + String.join(", ", missing.stream().map(TableName::quoted).toList()));
    }
    List<TableName> unmapped = present.stream().filter(t -> !wanted.contains(t)).toList();
    if (!unmapped.isEmpty()) {
      throw new RelayConfigException(
          List.of(unmappedProblem(unmapped.stream().map(TableName::dotted).toList(), pub)));
    }
    return false;
  }

  /** Why the relay stops for a table its publication holds but its configuration does not map. */
  public static String unmappedProblem(List<String> tables, String publication) {
    return EventMapper.unmappedProblem(tables, publication);
  }

  private boolean offsetsExist(Connection c) throws SQLException {
    if (config.offsets().store() == OffsetStore.FILE) {
      try {
        return Files.exists(config.offsets().file().orElseThrow())
            && Files.size(config.offsets().file().get()) > 0;
      } catch (IOException e) {
        throw new RelayException("cannot read offsets file " + config.offsets().file().get(), e);
      }
    }
    String table = offsetTable(config);
    if (columns(c, new TableName(currentSchema(c), table)).isEmpty()) {
      return false;
    }
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select count(*) from " + TableName.quote(table))) {
      rs.next();
      return rs.getLong(1) > 0;
    }
  }

  private static String currentSchema(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select current_schema()")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private boolean checkSlot(Connection c, boolean offsets) throws SQLException {
    String slot = config.source().slot();
    try (PreparedStatement ps =
        c.prepareStatement(
            "select plugin, database, wal_status, active_pid from pg_replication_slots where slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          if (offsets) {
            throw new RelaySlotException(
                "replication slot "
                    + slot
                    + " is missing, but this relay has offsets for it: the slot was dropped, so"
                    + " changes since the last offset are no longer in the WAL the relay can read."
                    + " The relay does not recreate it silently (that would lose those changes)."
                    + " Choose: (1) reconcile the gap (unpoll verify), then start with a new slot"
                    + " name (source.slot) so capture restarts from now, optionally with backlog:"
                    + " true; or (2) accept the gap and delete the old offsets: DROP TABLE "
                    + TableName.quote(offsetTable(config))
                    + (config.offsets().store() == OffsetStore.FILE
                        ? " (or remove " + config.offsets().file().orElseThrow() + ")"
                        : ""));
          }
          LOG.info("slot {} does not exist yet; Debezium creates it at start", slot);
          return false;
        }
        String plugin = rs.getString(1);
        String walStatus = rs.getString(3);
        Object pid = rs.getObject(4);
        if (!"pgoutput".equals(plugin)) {
          throw new RelaySlotException(
              "replication slot "
                  + slot
                  + " uses plugin "
                  + plugin
                  + ", not pgoutput; use another slot name");
        }
        if ("lost".equals(walStatus)) {
          throw new RelaySlotException(
              "replication slot "
                  + slot
                  + " is invalidated (wal_status = lost): PostgreSQL removed WAL it still needed"
                  + " (max_slot_wal_keep_size), so changes were lost. Reconcile the gap (unpoll"
                  + " verify), then run: SELECT pg_drop_replication_slot('"
                  + slot
                  + "'); and DROP TABLE "
                  + TableName.quote(offsetTable(config))
                  + "; or start with a new slot name, optionally with backlog: true");
        }
        if (pid != null) {
          throw new RelaySlotException(
              "replication slot "
                  + slot
                  + " is in use by server process "
                  + pid
                  + " (another relay?); stop it, or enable ha so only one replica streams");
        }
        return true;
      }
    }
  }

  /** The server process streaming from the slot (an active walsender), if any. */
  public static OptionalLong slotHolder(Connection c, String slot) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("select active_pid from pg_replication_slots where slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getObject(1) == null) {
          return OptionalLong.empty();
        }
        return OptionalLong.of(rs.getLong(1));
      }
    }
  }

  /** Returns true when the slot exists (used to report readiness). */
  public static boolean slotExists(Connection c, String slot) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("select 1 from pg_replication_slots where slot_name = ? and active")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** The pending-condition select that feeds the backlog snapshot. */
  public static String backlogSelect(TableMapping m) {
    TableMapping.Status s = m.status().orElseThrow();
    List<String> values = new ArrayList<>();
    for (String v : s.pending()) {
      values.add("'" + v.replace("'", "''") + "'");
    }
    return "SELECT * FROM "
        + m.table().quoted()
        + " WHERE "
        + TableName.quote(s.column())
        + "::text IN ("
        + String.join(", ", values)
        + ")";
  }
}
