package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.TableAnalysis;
import dev.unpoll.migration.internal.TableInfo.Column;
import dev.unpoll.migration.internal.TableInfo.Roles;
import dev.unpoll.migration.internal.TableInfo.StatusColumn;
import dev.unpoll.migration.internal.TableInfo.Verdict;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a table's catalog entry, statistics and data, and infers the roles of its columns. */
public final class Analyzer {
  /** A status column has at most this many distinct values. */
  public static final int MAX_STATUS_VALUES = 10;

  /** Tables estimated below this many rows are counted exactly. */
  public static final long EXACT_COUNT_LIMIT = 1_000_000;

  static final Set<String> PENDING =
      Set.of("new", "pending", "ready", "queued", "created", "waiting", "unprocessed", "todo", "0");
  static final Set<String> DONE =
      Set.of(
          "done",
          "processed",
          "completed",
          "complete",
          "sent",
          "success",
          "succeeded",
          "handled",
          "published",
          "ok",
          "finished",
          "delivered",
          "1");
  static final Set<String> IN_PROGRESS =
      Set.of(
          "processing",
          "in_progress",
          "in-progress",
          "inprogress",
          "running",
          "working",
          "locked",
          "claimed",
          "started",
          "sending",
          "publishing");
  static final Set<String> FAILED =
      Set.of("failed", "failure", "error", "errored", "retry", "retrying", "rejected");
  static final Set<String> BOOKKEEPING =
      Set.of(
          "processed_at",
          "processed",
          "processed_on",
          "handled_at",
          "completed_at",
          "done_at",
          "locked_by",
          "locked_at",
          "locked_until",
          "lock_owner",
          "retry_count",
          "retries",
          "attempts",
          "attempt_count",
          "error",
          "last_error",
          "error_message",
          "failure_reason",
          "next_attempt_at",
          "next_retry_at",
          "picked_at",
          "picked_by",
          "processing_started_at",
          "processed_by");
  static final List<String> PROCESSED_TIME =
      List.of("processed_at", "handled_at", "completed_at", "done_at", "processed_on");
  static final List<String> CREATED_TIME =
      List.of("created_at", "created", "created_on", "inserted_at", "enqueued_at", "occurred_at");
  static final Pattern STATUS_NAME = Pattern.compile("(.*_)?(status|state)");
  static final Pattern PAYLOAD_NAME =
      Pattern.compile("payload|data|body|message|content|event|json|event_data|message_body");
  static final Set<String> STATUS_TYPES = Set.of("text", "varchar", "bpchar", "int2", "int4");
  static final Set<String> TIME_TYPES = Set.of("timestamptz", "timestamp");
  static final Pattern CHECK_LITERAL = Pattern.compile("'((?:[^']|'')*)'");

  private Analyzer() {}

  /** Analyzes {@code t}; "does not exist" is a clear error with exit code 1. */
  public static TableInfo analyze(Connection c, TableName t) {
    return analyze(c, t, true);
  }

  /**
   * The catalog part only: columns, keys, replica identity, the time and bookkeeping columns, an
   * estimated row count; no scan of the table (no exact count, no status values). What the gates
   * need on every call, cheap on a large table.
   */
  public static TableInfo shape(Connection c, TableName t) {
    return analyze(c, t, false);
  }

  /**
   * Analyzes {@code t} with what observing its rows showed ({@code motion}, at least two samples
   * taken): the observed roles join the other evidence, and where they disagree a note says so.
   */
  public static TableInfo analyze(Connection c, TableName t, RowMotion motion) {
    Db.requireTable(c, t);
    try {
      return analyzeExisting(c, t, true, motion);
    } catch (SQLException e) {
      throw Db.failure("cannot analyze " + t.display(), e);
    }
  }

  private static TableInfo analyze(Connection c, TableName t, boolean readData) {
    Db.requireTable(c, t);
    try {
      return analyzeExisting(c, t, readData, null);
    } catch (SQLException e) {
      throw Db.failure("cannot analyze " + t.display(), e);
    }
  }

  /**
   * The columns of {@code t}, in order; {@code withDefaults}: with their default expressions
   * (deparsing them locks the table), else catalog only, no lock on the table.
   */
  public static List<Column> columns(Connection c, TableName t, boolean withDefaults)
      throws SQLException {
    List<Column> columns = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), ty.typname, ty.typtype = 'e',"
                + " NOT a.attnotnull, "
                + (withDefaults ? "pg_get_expr(d.adbin, d.adrelid)" : "NULL::text")
                + " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " JOIN pg_type ty ON ty.oid = a.atttypid"
                + " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                + " WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped"
                + " ORDER BY a.attnum")) {
      ps.setString(1, t.schema());
      ps.setString(2, t.table());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          columns.add(
              new Column(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getBoolean(4),
                  rs.getBoolean(5),
                  rs.getString(6)));
        }
      }
    }
    return columns;
  }

  /** The primary key columns of {@code t}, in key order (catalog only). */
  public static List<String> primaryKey(Connection c, TableName t) throws SQLException {
    List<String> pk = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT a.attname FROM pg_index i"
                + " JOIN pg_class c ON c.oid = i.indrelid"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)"
                + " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
                + " WHERE n.nspname = ? AND c.relname = ? AND i.indisprimary ORDER BY k.ord")) {
      ps.setString(1, t.schema());
      ps.setString(2, t.table());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          pk.add(rs.getString(1));
        }
      }
    }
    return pk;
  }

  private static TableInfo analyzeExisting(
      Connection c, TableName t, boolean readData, RowMotion motion) throws SQLException {
    List<Column> columns = columns(c, t, true);
    List<String> pk = primaryKey(c, t);
    String identity;
    String owner;
    long estimate;
    long bytes;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT c.relreplident, pg_get_userbyid(c.relowner), c.reltuples::bigint,"
                + " pg_total_relation_size(c.oid)"
                + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = ? AND c.relname = ?")) {
      ps.setString(1, t.schema());
      ps.setString(2, t.table());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        identity = replicaIdentity(rs.getString(1));
        owner = rs.getString(2);
        estimate = rs.getLong(3);
        bytes = rs.getLong(4);
      }
    }
    long rows = estimate;
    boolean exact = false;
    if (readData && estimate < EXACT_COUNT_LIMIT) {
      try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + t.quoted());
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        rows = rs.getLong(1);
        exact = true;
      }
    }
    Map<String, Long> activity = new LinkedHashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, n_live_tup, n_dead_tup,"
                + " seq_scan, idx_scan FROM pg_stat_user_tables WHERE schemaname = ? AND relname = ?")) {
      ps.setString(1, t.schema());
      ps.setString(2, t.table());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          String[] names = {
            "inserts",
            "updates",
            "hotUpdates",
            "deletes",
            "liveTuples",
            "deadTuples",
            "seqScans",
            "idxScans"
          };
          for (int i = 0; i < names.length; i++) {
            activity.put(names[i], rs.getLong(i + 1));
          }
        }
      }
    }
    List<String> notes = new ArrayList<>();
    List<TableAnalysis.Motion> observed = new ArrayList<>(1);
    Roles roles = roles(c, t, columns, pk, notes, readData, motion, observed);
    Verdict verdict = verdict(pk, identity, roles, notes);
    return new TableInfo(
        t,
        List.copyOf(columns),
        List.copyOf(pk),
        identity,
        owner,
        rows,
        exact,
        bytes,
        activity,
        roles,
        verdict,
        notes,
        observed.stream().findFirst());
  }

  private static Roles roles(
      Connection c,
      TableName t,
      List<Column> columns,
      List<String> pk,
      List<String> notes,
      boolean readData,
      RowMotion motion,
      List<TableAnalysis.Motion> observed)
      throws SQLException {
    Optional<StatusColumn> status = Optional.empty();
    Optional<PollerStatements> poller = readData ? PollerStatements.read(c, t) : Optional.empty();
    Optional<String> createdForAge = createdColumn(columns, List.of());
    if (poller.isPresent()) {
      Optional<String> byStatements = poller.get().statusColumn(pk);
      Optional<Column> col =
          byStatements.flatMap(n -> columns.stream().filter(x -> x.name().equals(n)).findFirst());
      if (col.isPresent()) {
        status = statusValues(c, t, col.get(), createdForAge, notes);
        status.ifPresent(
            st ->
                notes.add(
                    "status column "
                        + st.column()
                        + ": the poller's statements filter on it and set it"
                        + " (pg_stat_statements)"));
      }
      notes.add("evidence (pg_stat_statements), the poller's statements on the table:");
      poller.get().describe().forEach(d -> notes.add("  " + d));
    }
    for (Column col : readData && status.isEmpty() ? columns : List.<Column>of()) {
      if (pk.contains(col.name())) {
        continue;
      }
      boolean named = STATUS_NAME.matcher(col.name().toLowerCase(Locale.ROOT)).matches();
      boolean typed = col.isEnum() || STATUS_TYPES.contains(col.typeName());
      if (!typed || !(named || col.isEnum())) {
        continue;
      }
      Optional<StatusColumn> candidate = statusValues(c, t, col, createdForAge, notes);
      if (candidate.isPresent()) {
        status = candidate;
        break;
      }
    }
    Optional<String> payload = Optional.empty();
    boolean payloadJson = false;
    for (String wanted : List.of("jsonb", "json", "xml", "text")) {
      for (Column col : columns) {
        boolean typeMatches = col.typeName().equals(wanted);
        boolean nameMatches = PAYLOAD_NAME.matcher(col.name().toLowerCase(Locale.ROOT)).matches();
        if (payload.isEmpty() && typeMatches && (nameMatches || !wanted.equals("text"))) {
          payload = Optional.of(col.name());
          payloadJson = wanted.startsWith("json");
        }
      }
    }
    List<String> fromMotion = List.of();
    if (motion != null) {
      RowMotion.Inference inf =
          motion.infer(status.map(StatusColumn::column), payload.map(Set::of).orElse(Set.of()));
      observed.add(inf.motion());
      notes.addAll(inf.notes());
      if (status.isEmpty() && inf.column().isPresent()) {
        Optional<Column> col =
            columns.stream().filter(x -> x.name().equals(inf.column().get())).findFirst();
        if (col.isPresent()) {
          status = statusValues(c, t, col.get(), createdForAge, notes);
          if (status.isEmpty()) {
            notes.add(
                "observed: "
                    + col.get().name()
                    + " changed as rows moved, but it has more than "
                    + MAX_STATUS_VALUES
                    + " distinct values: not taken as the status column");
          } else {
            notes.add(
                "status column "
                    + col.get().name()
                    + ": its values changed as rows moved (observed)");
          }
        }
      }
      if (status.isPresent() && inf.column().equals(Optional.of(status.get().column()))) {
        status = Optional.of(withObserved(status.get(), inf.roles(), notes));
        fromMotion = inf.bookkeeping();
      }
    }
    List<String> bookkeeping = new ArrayList<>();
    status.ifPresent(s -> bookkeeping.add(s.column()));
    if (poller.isPresent()) {
      List<String> fromUpdates = new ArrayList<>();
      for (String col : poller.get().set()) {
        if (!pk.contains(col)
            && !bookkeeping.contains(col)
            && columns.stream().anyMatch(x -> x.name().equals(col))) {
          bookkeeping.add(col);
          fromUpdates.add(col);
        }
      }
      if (!fromUpdates.isEmpty()) {
        notes.add(
            "bookkeeping columns "
                + fromUpdates
                + ": the poller's updates set them (pg_stat_statements)");
      }
    }
    for (String col : fromMotion) {
      if (!pk.contains(col) && !bookkeeping.contains(col)) {
        bookkeeping.add(col);
      }
    }
    for (Column col : columns) {
      if (BOOKKEEPING.contains(col.name().toLowerCase(Locale.ROOT))
          && !pk.contains(col.name())
          && !bookkeeping.contains(col.name())) {
        bookkeeping.add(col.name());
      }
    }
    Optional<String> processed = Optional.empty();
    for (String name : PROCESSED_TIME) {
      for (Column col : columns) {
        if (processed.isEmpty()
            && col.name().equalsIgnoreCase(name)
            && TIME_TYPES.contains(col.typeName())) {
          processed = Optional.of(col.name());
        }
      }
    }
    Optional<String> created = createdColumn(columns, bookkeeping);
    if (!readData) {
      notes.add("status values not read (catalog-only analysis)");
    } else if (status.isEmpty()) {
      notes.add(
          "no status column found (text, varchar, enum or small integer named *status/*state with"
              + " at most "
              + MAX_STATUS_VALUES
              + " distinct values): the poller path cannot be"
              + " reconciled by verify");
    } else if (status.get().pending().isEmpty() || status.get().done().isEmpty()) {
      notes.add(
          "status column "
              + status.get().column()
              + ": could not tell pending from done values"
              + " (seen: "
              + status.get().counts().keySet()
              + "); set status.pending and"
              + " status.done in the mapping");
    }
    if (status.isPresent()
        && (!status.get().inProgress().isEmpty() || !status.get().failed().isEmpty())) {
      notes.add(
          "status column "
              + status.get().column()
              + ": in-progress "
              + status.get().inProgress()
              + ", failed "
              + status.get().failed()
              + " (neither pending nor done: the dual-run claim retries such rows and the"
              + " cutover gate waits for them; move a value to status.done if it is final)");
    }
    if (created.isEmpty()) {
      notes.add(
          "no creation-time column (timestamp named created_at, or with default now()): verify"
              + " compares all rows instead of a time window");
    }
    return new Roles(
        List.copyOf(pk),
        status,
        payload,
        payloadJson,
        List.copyOf(bookkeeping),
        created,
        processed);
  }

  /** The creation-time column: by name, else a time column defaulting to now(). */
  private static Optional<String> createdColumn(List<Column> columns, List<String> bookkeeping) {
    for (String name : CREATED_TIME) {
      for (Column col : columns) {
        if (col.name().equalsIgnoreCase(name) && TIME_TYPES.contains(col.typeName())) {
          return Optional.of(col.name());
        }
      }
    }
    for (Column col : columns) {
      if (TIME_TYPES.contains(col.typeName())
          && col.dflt() != null
          && col.dflt().contains("now()")
          && !bookkeeping.contains(col.name())) {
        return Optional.of(col.name());
      }
    }
    return Optional.empty();
  }

  private static Optional<StatusColumn> statusValues(
      Connection c, TableName t, Column col, Optional<String> created, List<String> notes)
      throws SQLException {
    String q = Names.quote(col.name());
    Map<String, Long> counts = new LinkedHashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + q
                + "::text, count(*) FROM "
                + t.quoted()
                + " GROUP BY 1 ORDER BY 2 DESC"
                + " LIMIT "
                + (MAX_STATUS_VALUES + 1))) {
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (rs.getString(1) != null) {
            counts.put(rs.getString(1), rs.getLong(2));
          }
        }
      }
    }
    if (counts.size() > MAX_STATUS_VALUES) {
      return Optional.empty();
    }
    List<String> values = new ArrayList<>(counts.keySet());
    if (col.isEnum()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT e.enumlabel FROM pg_enum e JOIN pg_type ty ON ty.oid = e.enumtypid"
                  + " WHERE ty.typname = ? ORDER BY e.enumsortorder")) {
        ps.setString(1, col.typeName());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            if (!values.contains(rs.getString(1))) {
              values.add(rs.getString(1));
            }
          }
        }
      }
    }
    // A CHECK constraint on the column alone lists the values the data may not show yet (an
    // integration table whose cleanup job deleted every done row, or an empty one).
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k"
                + " JOIN pg_class c ON c.oid = k.conrelid"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = ?"
                + " WHERE n.nspname = ? AND c.relname = ? AND k.contype = 'c'"
                + " AND k.conkey = ARRAY[a.attnum]")) {
      ps.setString(1, col.name());
      ps.setString(2, t.schema());
      ps.setString(3, t.table());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Matcher m = CHECK_LITERAL.matcher(rs.getString(1));
          while (m.find()) {
            String v = m.group(1).replace("''", "'");
            if (!values.contains(v)) {
              values.add(v);
            }
          }
        }
      }
    }
    List<String> pending = new ArrayList<>();
    List<String> done = new ArrayList<>();
    List<String> inProgress = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    List<String> other = new ArrayList<>();
    // 0 and 1 mean pending and done only in a 0/1 flag; in a status with more numbers (0 new, 1
    // working, 2 done, 9 failed) the rows' ages tell the roles instead
    boolean flag = values.stream().allMatch(v -> v.equals("0") || v.equals("1"));
    for (String v : values) {
      String lower = v.toLowerCase(Locale.ROOT);
      if (!flag && (lower.equals("0") || lower.equals("1"))) {
        other.add(v);
      } else if (PENDING.contains(lower)) {
        pending.add(v);
      } else if (DONE.contains(lower)) {
        done.add(v);
      } else if (IN_PROGRESS.contains(lower)) {
        inProgress.add(v);
      } else if (FAILED.contains(lower)) {
        failed.add(v);
      } else {
        other.add(v);
      }
    }
    // A value that is neither pending nor done is a state the poller has not finished: counting
    // it as in progress makes the claim retry it and the cutover gate wait for it, never lose it.
    // Once pending and done are known, anything else the data shows is such a state.
    if ((pending.isEmpty() || done.isEmpty()) && !other.isEmpty() && created.isPresent()) {
      byAge(c, t, col, created.get(), other, pending, done, inProgress, failed, notes);
      other.removeAll(pending);
      other.removeAll(done);
      other.removeAll(inProgress);
      other.removeAll(failed);
    }
    if (!pending.isEmpty() && !done.isEmpty()) {
      inProgress.addAll(other);
    }
    return Optional.of(new StatusColumn(col.name(), pending, done, inProgress, failed, counts));
  }

  /**
   * Tells the roles of status values the names do not tell (0, 1, 2, 9) from the rows' ages: the
   * value most of the oldest half of the rows holds is done; the one most of the newest fifth holds
   * (done aside) is pending; of the rest, a value held mostly by new rows is in progress, one held
   * mostly by old rows is failed (handled, and left behind).
   */
  private static void byAge(
      Connection c,
      TableName t,
      Column col,
      String created,
      List<String> other,
      List<String> pending,
      List<String> done,
      List<String> inProgress,
      List<String> failed,
      List<String> notes)
      throws SQLException {
    Map<String, long[]> ages = new LinkedHashMap<>(); // value -> {newest fifth, oldest half}
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT v, count(*) FILTER (WHERE d >= 9), count(*) FILTER (WHERE d <= 5) FROM"
                + " (SELECT "
                + Names.quote(col.name())
                + "::text AS v, ntile(10) OVER (ORDER BY "
                + Names.quote(created)
                + ") AS d FROM "
                + t.quoted()
                + " WHERE "
                + Names.quote(created)
                + " IS NOT NULL) r WHERE v IS NOT NULL GROUP BY v")) {
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ages.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
        }
      }
    }
    List<String> said = new ArrayList<>();
    if (done.isEmpty()) {
      other.stream()
          .filter(v -> ages.containsKey(v) && ages.get(v)[1] > 0)
          .max(java.util.Comparator.comparingLong(v -> ages.get(v)[1]))
          .ifPresent(
              v -> {
                done.add(v);
                said.add(v + " done (most of the oldest rows hold it)");
              });
    }
    if (pending.isEmpty()) {
      other.stream()
          .filter(v -> !done.contains(v) && ages.containsKey(v) && ages.get(v)[0] > 0)
          .max(java.util.Comparator.comparingLong(v -> ages.get(v)[0]))
          .ifPresent(
              v -> {
                pending.add(v);
                said.add(v + " pending (most of the newest rows not done hold it)");
              });
    }
    if (pending.isEmpty() || done.isEmpty()) {
      return;
    }
    for (String v : other) {
      if (pending.contains(v) || done.contains(v) || !ages.containsKey(v)) {
        continue;
      }
      long[] a = ages.get(v);
      if (a[0] > a[1]) {
        inProgress.add(v);
        said.add(v + " in progress (held by new rows)");
      } else {
        failed.add(v);
        said.add(v + " failed (held by old rows, left behind)");
      }
    }
    notes.add(
        "status column "
            + col.name()
            + ": values told by the rows' age ("
            + created
            + "): "
            + String.join("; ", said));
  }

  /**
   * The status roles with the observed ones applied: a value the motion gives a role takes it; when
   * the names, the CHECK constraint or the rows' age had given it another, a note says so, and a
   * disputed done is not taken (nor one while a value never seen reached holds more rows). Once
   * pending and done are known, a value still without a role is in progress (the safe side).
   */
  static StatusColumn withObserved(
      StatusColumn base, Map<String, String> observed, List<String> notes) {
    Map<String, List<String>> lists = new LinkedHashMap<>();
    lists.put(RowMotion.PENDING, new ArrayList<>(base.pending()));
    lists.put(RowMotion.DONE, new ArrayList<>(base.done()));
    lists.put(RowMotion.IN_PROGRESS, new ArrayList<>(base.inProgress()));
    lists.put(RowMotion.FAILED, new ArrayList<>(base.failed()));
    for (Map.Entry<String, String> e : observed.entrySet()) {
      String value = e.getKey();
      String role = e.getValue();
      if (role.equals(RowMotion.DONE)) {
        long held = base.counts().getOrDefault(value, 0L);
        Optional<Map.Entry<String, Long>> more =
            base.counts().entrySet().stream()
                .filter(c -> c.getValue() > held && !observed.containsKey(c.getKey()))
                .findFirst();
        if (more.isPresent()) {
          // rows taken in a short window look as if they stayed: never call that done
          role = RowMotion.IN_PROGRESS;
          notes.add(
              "status value "
                  + value
                  + ": rows reached it and stayed while observed, but "
                  + more.get().getKey()
                  + " holds more rows ("
                  + more.get().getValue()
                  + " to "
                  + held
                  + ") and no row was seen reaching it: the window may be too short to see rows"
                  + " leave "
                  + value
                  + "; kept as in progress (observe longer, or set status.done in the mapping)");
        }
      }
      String before = null;
      for (Map.Entry<String, List<String>> l : lists.entrySet()) {
        if (l.getValue().contains(value)) {
          before = l.getKey();
        }
      }
      if (before != null && !before.equals(role) && role.equals(RowMotion.DONE)) {
        // done is the one role that lets the gates skip rows: never on disputed evidence
        notes.add(
            "status value "
                + value
                + ": observed done, but the names or the rows' age said "
                + before
                + ": kept "
                + before
                + " (the side where no row is skipped); move it to status.done in the mapping if"
                + " it is final");
        continue;
      }
      if (before != null && !before.equals(role)) {
        notes.add(
            "status value "
                + value
                + ": observed "
                + role
                + ", but the names or the rows' age said "
                + before
                + ": the observation is used; edit status."
                + role
                + "/status."
                + before
                + " in the mapping if it is wrong");
      }
      lists.values().forEach(l -> l.remove(value));
      lists.get(role).add(value);
    }
    if (!lists.get(RowMotion.PENDING).isEmpty() && !lists.get(RowMotion.DONE).isEmpty()) {
      for (String v : base.counts().keySet()) {
        if (lists.values().stream().noneMatch(l -> l.contains(v))) {
          lists.get(RowMotion.IN_PROGRESS).add(v);
        }
      }
    }
    return new StatusColumn(
        base.column(),
        List.copyOf(lists.get(RowMotion.PENDING)),
        List.copyOf(lists.get(RowMotion.DONE)),
        List.copyOf(lists.get(RowMotion.IN_PROGRESS)),
        List.copyOf(lists.get(RowMotion.FAILED)),
        base.counts());
  }

  private static Verdict verdict(
      List<String> pk, String identity, Roles roles, List<String> notes) {
    if (pk.isEmpty() && !identity.equals("full") && !identity.equals("index")) {
      notes.add(
          0,
          "no primary key: the relay cannot derive a stable event key (ce_id) and PostgreSQL"
              + " refuses UPDATE/DELETE on a published table without a replica identity, which"
              + " would break the poller. Options: add a primary key (best); or a unique NOT NULL"
              + " column set as key with ALTER TABLE ... REPLICA IDENTITY USING INDEX ...; or"
              + " REPLICA IDENTITY FULL plus `key:` columns in the mapping (more WAL).");
      return Verdict.NOT_READY;
    }
    if (pk.isEmpty()) {
      notes.add("no primary key: set `key:` columns in the mapping explicitly");
    }
    if (identity.equals("full")) {
      notes.add("REPLICA IDENTITY FULL: every update and delete writes the whole old row to WAL");
    }
    boolean statusUnclear =
        roles.status().map(s -> s.pending().isEmpty() || s.done().isEmpty()).orElse(true);
    return statusUnclear || roles.created().isEmpty() || pk.isEmpty()
        ? Verdict.READY_WITH_WARNINGS
        : Verdict.READY;
  }

  static String replicaIdentity(String code) {
    switch (code) {
      case "d":
        return "default";
      case "f":
        return "full";
      case "i":
        return "index";
      case "n":
        return "nothing";
      default:
        throw new MigrationException("unknown replica identity '" + code + "'");
    }
  }
}
