package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.TableAnalysis.Motion;
import dev.unpoll.migration.internal.TableInfo.Column;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How a table's rows move: samples of the values of a bounded set of rows, compared sample to
 * sample, and what the changes say about the poller's status column and its values.
 *
 * <p>A sample is one read-only statement (one snapshot) that reads at most {@link #ROWS_PER_PART}
 * newest rows by primary key, at most {@link #ROWS_PER_PART} rows (oldest key first) whose status
 * holds a value rows still leave (when the status column and its values are known), and the rows
 * already watched, by key (at most {@link #MAX_WATCHED}). It never reads the whole table. A column
 * that could be a status (text, varchar, char, enum, smallint, integer, boolean) is read as its
 * first {@value #VALUE_CHARS} characters; any other column only as an md5 digest, to see that it
 * changed: no payload is kept.
 *
 * <p>What the changes say: the value rows appear with is pending; a value rows reach and then leave
 * is in progress; a value rows reach and stay in is done, the most reached one, and one reached
 * rarely beside it is failed; a value rows reach and leave back to pending, without being reached
 * from pending, is failed (re-queued). Columns that change in the same step as the status (and at
 * least as often as on their own) are the poller's bookkeeping.
 */
public final class RowMotion {
  /** The most rows one part of a sample reads (the newest; those in a moving status). */
  public static final int ROWS_PER_PART = 1000;

  /** The time between two samples of {@code unpoll analyze --observe}, in seconds. */
  public static final int SAMPLE_INTERVAL_SECONDS = 1;

  /** The most rows watched by key from sample to sample. */
  public static final int MAX_WATCHED = 5000;

  /** The longest one sample may take ({@code statement_timeout} of the observing session). */
  public static final java.time.Duration SAMPLE_TIMEOUT = java.time.Duration.ofSeconds(30);

  /** A comment that starts every sample's statement, so a DBA sees what reads the table. */
  public static final String MARKER = "/* unpoll analyze --observe */";

  static final int VALUE_CHARS = 64;

  /** Roles, in the mapping's words. */
  static final String PENDING = "pending";

  static final String IN_PROGRESS = "in-progress";
  static final String DONE = "done";
  static final String FAILED = "failed";

  /** How a NULL status is written in the figures; it gets no role. */
  static final String NULL = "NULL";

  private final TableName table;
  private final List<Column> key;
  private final List<Column> watched;
  private final Set<Integer> candidates = new LinkedHashSet<>();
  private final Map<List<String>, String[]> rows = new LinkedHashMap<>();
  private final Set<List<String>> ever = new HashSet<>();
  private final List<String[][]> changes = new ArrayList<>(); // {before, after}
  private final List<String[]> appeared = new ArrayList<>();
  private final List<String[]> deleted = new ArrayList<>();
  private List<String> newestKey; // null before the first sample; empty: the table was empty
  private int samples;
  private int seen;
  private long firstNanos;
  private long lastNanos;
  private Column moving;
  private List<String> movingValues = List.of();

  /** Observes {@code table} with these columns and primary key (which must not be empty). */
  public RowMotion(TableName table, List<Column> columns, List<String> primaryKey) {
    this.table = table;
    this.key =
        primaryKey.stream()
            .map(k -> columns.stream().filter(c -> c.name().equals(k)).findFirst().orElseThrow())
            .toList();
    this.watched = columns.stream().filter(c -> !primaryKey.contains(c.name())).toList();
    for (int i = 0; i < watched.size(); i++) {
      Column c = watched.get(i);
      if (c.isEnum()
          || Analyzer.STATUS_TYPES.contains(c.typeName())
          || c.typeName().equals("bool")) {
        candidates.add(i);
      }
    }
  }

  /** Sets up the observing session: read-only (the samples and the analyses). */
  public static void prepare(Connection c) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT set_config('default_transaction_read_only', 'on', false)")) {
      ps.executeQuery().close();
    }
  }

  /**
   * From the next sample on, also reads rows whose {@code column} holds one of {@code values} (the
   * values rows still leave: not the done one), oldest key first: a poller working through a
   * backlog moves those, not the newest.
   */
  public void alsoWatch(Column column, List<String> values) {
    this.moving = column;
    this.movingValues = List.copyOf(values);
  }

  /** The number of samples taken. */
  public int samples() {
    return samples;
  }

  /** Takes one sample and compares it with the last; returns the rows read. */
  public int sample(Connection c) throws SQLException {
    String keyList = columnList("", key);
    String desc = key.stream().map(k -> Names.quote(k.name()) + " DESC").collect(joining());
    StringBuilder sql = new StringBuilder(MARKER).append(" WITH w(");
    for (int i = 0; i < key.size(); i++) {
      sql.append(i == 0 ? "" : ", ").append("k").append(i);
    }
    sql.append(") AS ((SELECT ")
        .append(keyList)
        .append(" FROM ")
        .append(table.quoted())
        .append(" ORDER BY ")
        .append(desc)
        .append(" LIMIT ")
        .append(ROWS_PER_PART)
        .append(')');
    List<Object> params = new ArrayList<>();
    if (moving != null && !movingValues.isEmpty()) {
      sql.append(" UNION (SELECT ")
          .append(keyList)
          .append(" FROM ")
          .append(table.quoted())
          .append(" WHERE ")
          .append(Names.quote(moving.name()))
          .append(" = ANY(CAST(CAST(? AS text[]) AS ")
          .append(moving.type())
          .append("[])) ORDER BY ")
          .append(keyList)
          .append(" LIMIT ")
          .append(ROWS_PER_PART)
          .append(')');
      params.add(c.createArrayOf("text", movingValues.toArray()));
    }
    if (!rows.isEmpty()) {
      sql.append(" UNION (SELECT ");
      for (int i = 0; i < key.size(); i++) {
        sql.append(i == 0 ? "" : ", ")
            .append("CAST(u.k")
            .append(i)
            .append(" AS ")
            .append(key.get(i).type())
            .append(')');
      }
      sql.append(" FROM unnest(");
      for (int i = 0; i < key.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append("CAST(? AS text[])");
        String[] column = new String[rows.size()];
        int j = 0;
        for (List<String> k : rows.keySet()) {
          column[j++] = k.get(i);
        }
        params.add(c.createArrayOf("text", column));
      }
      sql.append(") AS u(");
      for (int i = 0; i < key.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append("k").append(i);
      }
      sql.append("))");
    }
    sql.append(") SELECT ");
    for (Column k : key) {
      sql.append("CAST(r.").append(Names.quote(k.name())).append(" AS text), ");
    }
    for (int i = 0; i < watched.size(); i++) {
      String col = "CAST(r." + Names.quote(watched.get(i).name()) + " AS text)";
      sql.append(
              candidates.contains(i)
                  ? "left(" + col + ", " + VALUE_CHARS + ")"
                  : "md5(" + col + ")")
          .append(", ");
    }
    if (newestKey == null) {
      sql.append("false");
    } else if (newestKey.isEmpty()) {
      sql.append("true");
    } else {
      sql.append('(').append(columnList("r.", key)).append(") > (");
      for (int i = 0; i < key.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append("CAST(? AS ").append(key.get(i).type()).append(')');
        params.add(newestKey.get(i));
      }
      sql.append(')');
    }
    sql.append(" FROM ").append(table.quoted()).append(" r JOIN w ON ");
    for (int i = 0; i < key.size(); i++) {
      sql.append(i == 0 ? "" : " AND ")
          .append("r.")
          .append(Names.quote(key.get(i).name()))
          .append(" = w.k")
          .append(i);
    }
    sql.append(" ORDER BY ")
        .append(key.stream().map(k -> "r." + Names.quote(k.name()) + " DESC").collect(joining()));

    Map<List<String>, String[]> now = new LinkedHashMap<>();
    Set<List<String>> fresh = new HashSet<>();
    // one transaction: the timeout bounds the sample alone, not the analyses on this session
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try (PreparedStatement timeout =
            c.prepareStatement("SELECT set_config('statement_timeout', ?, true)");
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      timeout.setString(1, SAMPLE_TIMEOUT.toMillis() + "ms");
      timeout.executeQuery().close();
      for (int i = 0; i < params.size(); i++) {
        Object p = params.get(i);
        if (p instanceof Array a) {
          ps.setArray(i + 1, a);
        } else {
          ps.setString(i + 1, (String) p);
        }
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          List<String> k = new ArrayList<>();
          for (int i = 0; i < key.size(); i++) {
            k.add(rs.getString(i + 1));
          }
          String[] values = new String[watched.size()];
          for (int i = 0; i < watched.size(); i++) {
            values[i] = rs.getString(key.size() + i + 1);
          }
          now.put(List.copyOf(k), values);
          if (rs.getBoolean(key.size() + watched.size() + 1)) {
            fresh.add(List.copyOf(k));
          }
        }
      }
      c.commit();
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
    long t = System.nanoTime();
    if (samples == 0) {
      firstNanos = t;
      newestKey = now.isEmpty() ? List.of() : now.keySet().iterator().next();
    }
    lastNanos = t;
    for (var it = rows.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!now.containsKey(e.getKey())) {
        deleted.add(e.getValue()); // watched by key, and gone
        it.remove();
      }
    }
    for (var e : now.entrySet()) {
      String[] before = rows.get(e.getKey());
      if (before != null) {
        if (!java.util.Arrays.equals(before, e.getValue())) {
          changes.add(new String[][] {before, e.getValue()});
        }
        rows.put(e.getKey(), e.getValue());
        continue;
      }
      if (!ever.add(e.getKey())) {
        continue; // seen before, not watched (the watch list was full)
      }
      if (samples > 0 && fresh.contains(e.getKey())) {
        appeared.add(e.getValue());
      }
      seen++;
      if (rows.size() < MAX_WATCHED) {
        rows.put(e.getKey(), e.getValue());
      }
    }
    samples++;
    return now.size();
  }

  /**
   * What the samples say. {@code known}: the status column other evidence found (its changes are
   * counted even when another column changed more often, which is then said); {@code exclude}:
   * columns never proposed as bookkeeping (the payload).
   */
  public Inference infer(Optional<String> known, Set<String> exclude) {
    List<String> notes = new ArrayList<>();
    long[] changed = new long[watched.size()];
    for (String[][] ch : changes) {
      for (int i = 0; i < watched.size(); i++) {
        if (!java.util.Objects.equals(ch[0][i], ch[1][i])) {
          changed[i]++;
        }
      }
    }
    Optional<Integer> mostChanged =
        candidates.stream()
            .filter(i -> changed[i] > 0)
            .max(
                Comparator.<Integer>comparingLong(i -> changed[i])
                    .thenComparing(i -> -distinct(i))
                    .thenComparing(i -> -typeRank(watched.get(i)))
                    .thenComparing(i -> -i));
    Optional<Integer> knownIndex =
        known.flatMap(
            k ->
                java.util.stream.IntStream.range(0, watched.size())
                    .filter(i -> candidates.contains(i) && watched.get(i).name().equals(k))
                    .boxed()
                    .findFirst());
    Optional<Integer> status = knownIndex.isPresent() ? knownIndex : mostChanged;
    String window =
        "observed "
            + samples
            + " samples over "
            + dev.unpoll.migration.Durations.format(
                java.time.Duration.ofMillis(
                    elapsedMillis() < 1000 ? elapsedMillis() : elapsedMillis() / 1000 * 1000))
            + " ("
            + seen
            + " rows watched: the newest "
            + ROWS_PER_PART
            + " by key"
            + (moving != null && !movingValues.isEmpty()
                ? ", up to " + ROWS_PER_PART + " with " + moving.name() + " in " + movingValues
                : "")
            + ", and each row seen again by key)";
    if (changes.isEmpty() && appeared.isEmpty() && deleted.isEmpty()) {
      notes.add(
          "evidence (observed): " + window + ": no movement observed, nothing inferred from it");
      return new Inference(
          motion(Optional.empty(), Map.of(), List.of(), Map.of(), Map.of()),
          Optional.empty(),
          Map.of(),
          List.of(),
          notes);
    }
    if (knownIndex.isPresent()
        && mostChanged.isPresent()
        && !mostChanged.equals(knownIndex)
        && changed[mostChanged.get()] > changed[knownIndex.get()]) {
      notes.add(
          "observed: "
              + watched.get(mostChanged.get()).name()
              + " changed in "
              + changed[mostChanged.get()]
              + " row steps, more than the status column "
              + known.get()
              + " ("
              + changed[knownIndex.get()]
              + "): kept "
              + known.get()
              + " (other evidence); set status.column in the mapping if the poller's status is "
              + watched.get(mostChanged.get()).name());
    }
    if (status.isEmpty()) {
      notes.add(
          "evidence (observed): "
              + window
              + ": "
              + appeared.size()
              + " rows inserted, "
              + deleted.size()
              + " deleted, no candidate status column changed: nothing inferred from it");
      return new Inference(
          motion(Optional.empty(), Map.of(), List.of(), Map.of(), Map.of()),
          Optional.empty(),
          Map.of(),
          List.of(),
          notes);
    }
    int s = status.get();
    String column = watched.get(s).name();
    Map<String, Long> inserted = count(appeared, v -> v[s]);
    Map<String, Long> gone = count(deleted, v -> v[s]);
    Map<List<String>, Long> moves = new LinkedHashMap<>();
    Map<String, Long> with = new LinkedHashMap<>();
    Map<String, Long> alone = new LinkedHashMap<>();
    for (String[][] ch : changes) {
      boolean statusChanged = !java.util.Objects.equals(ch[0][s], ch[1][s]);
      if (statusChanged) {
        moves.merge(List.of(text(ch[0][s]), text(ch[1][s])), 1L, Long::sum);
      }
      for (int i = 0; i < watched.size(); i++) {
        if (i != s && !java.util.Objects.equals(ch[0][i], ch[1][i])) {
          (statusChanged ? with : alone).merge(watched.get(i).name(), 1L, Long::sum);
        }
      }
    }
    List<Motion.Move> moveList = new ArrayList<>();
    moves.entrySet().stream()
        .sorted(Map.Entry.<List<String>, Long>comparingByValue().reversed())
        .forEach(
            e -> moveList.add(new Motion.Move(e.getKey().get(0), e.getKey().get(1), e.getValue())));
    StringBuilder evidence = new StringBuilder("evidence (observed): ").append(window).append(':');
    List<String> parts = new ArrayList<>();
    inserted.forEach((v, n) -> parts.add(rows(n) + " inserted with " + column + " " + v));
    moveList.forEach(m -> parts.add(rows(m.rows()) + " " + m.from() + "→" + m.to()));
    gone.forEach((v, n) -> parts.add(rows(n) + " deleted at " + v));
    evidence.append(' ').append(parts.isEmpty() ? "no status change" : String.join(", ", parts));
    notes.add(evidence.toString());

    Map<String, String> roles = new LinkedHashMap<>();
    List<String> why = new ArrayList<>();
    Map<String, Long> in = new LinkedHashMap<>();
    Map<String, Long> out = new LinkedHashMap<>();
    for (Motion.Move m : moveList) {
      out.merge(m.from(), m.rows(), Long::sum);
      in.merge(m.to(), m.rows(), Long::sum);
    }
    Optional<String> pending = Optional.empty();
    Map<String, Long> insertedWithValue = new LinkedHashMap<>(inserted);
    insertedWithValue.remove(NULL);
    if (!insertedWithValue.isEmpty()) {
      long top = insertedWithValue.values().iterator().next();
      List<String> tops =
          insertedWithValue.entrySet().stream()
              .filter(e -> e.getValue() == top)
              .map(Map.Entry::getKey)
              .toList();
      if (tops.size() == 1) {
        pending = Optional.of(tops.get(0));
        why.add(
            tops.get(0)
                + " pending ("
                + top
                + (top == 1 ? " inserted row had it)" : " inserted rows had it)"));
      } else {
        why.add("pending unclear: as many inserted rows had each of " + tops);
      }
    } else {
      List<String> sources =
          out.keySet().stream().filter(v -> !v.equals(NULL) && !in.containsKey(v)).toList();
      if (sources.size() == 1) {
        pending = Optional.of(sources.get(0));
        why.add(sources.get(0) + " pending (rows left it, none reached it; no row was inserted)");
      }
    }
    pending.ifPresent(p -> roles.put(p, PENDING));
    in.remove(NULL); // a row without status gets no role
    out.remove(NULL);
    Set<String> values = new LinkedHashSet<>(in.keySet());
    values.addAll(out.keySet());
    List<String> terminal = new ArrayList<>();
    for (String v : values) {
      if (roles.containsKey(v) || !in.containsKey(v)) {
        continue;
      }
      long fromPending = pending.map(p -> moves.getOrDefault(List.of(p, v), 0L)).orElse(0L);
      long back = pending.map(p -> moves.getOrDefault(List.of(v, p), 0L)).orElse(0L);
      if (!out.containsKey(v)) {
        terminal.add(v);
      } else if (back > 0 && fromPending == 0) {
        roles.put(v, FAILED);
        why.add(
            v
                + " failed ("
                + rows(in.get(v))
                + " reached it, not from "
                + pending.get()
                + "; "
                + back
                + " went back to "
                + pending.get()
                + ": re-queued)");
      } else {
        roles.put(v, IN_PROGRESS);
        why.add(
            v + " in progress (" + rows(in.get(v)) + " reached it, " + out.get(v) + " left it)");
      }
    }
    terminal.sort(Comparator.comparingLong((String v) -> in.get(v)).reversed());
    if (!terminal.isEmpty()) {
      String top = terminal.get(0);
      long n = in.get(top);
      if (terminal.size() > 1 && in.get(terminal.get(1)) == n) {
        why.add(
            "done unclear: as many rows reached and stayed in each of "
                + terminal.stream().filter(v -> in.get(v) == n).toList());
      } else {
        roles.put(top, DONE);
        why.add(top + " done (" + rows(n) + " reached it, none left it)");
      }
      for (String v : terminal.subList(1, terminal.size())) {
        long m = in.get(v);
        if (m * 2 <= n) {
          roles.put(v, FAILED);
          why.add(v + " failed (" + rows(m) + " reached it and stayed, rarely beside " + top + ")");
        } else if (m < n) {
          why.add(
              v
                  + " unclear ("
                  + rows(m)
                  + " reached it and stayed, "
                  + n
                  + " in "
                  + top
                  + ": too many for failed)");
        }
      }
    }
    List<String> bookkeeping = new ArrayList<>();
    List<String> bkWhy = new ArrayList<>();
    long statusSteps = changed[s];
    for (Map.Entry<String, Long> e : with.entrySet()) {
      long lone = alone.getOrDefault(e.getKey(), 0L);
      if (!exclude.contains(e.getKey()) && e.getValue() >= lone) {
        bookkeeping.add(e.getKey());
        bkWhy.add(e.getKey() + " in " + e.getValue() + " of " + statusSteps);
      }
    }
    if (!why.isEmpty()) {
      notes.add("status column " + column + ", observed: " + String.join("; ", why));
    }
    if (!bookkeeping.isEmpty()) {
      notes.add(
          "bookkeeping columns "
              + bookkeeping
              + ": they changed with "
              + column
              + " (observed: "
              + String.join(", ", bkWhy)
              + " status changes)");
    }
    return new Inference(
        motion(Optional.of(column), inserted, moveList, gone, with),
        Optional.of(column),
        roles,
        bookkeeping,
        notes);
  }

  private Motion motion(
      Optional<String> column,
      Map<String, Long> inserted,
      List<Motion.Move> moves,
      Map<String, Long> gone,
      Map<String, Long> with) {
    return new Motion(samples, elapsedMillis(), seen, column, inserted, moves, gone, with);
  }

  private long elapsedMillis() {
    return samples < 2 ? 0 : (lastNanos - firstNanos) / 1_000_000;
  }

  private long distinct(int i) {
    Set<String> v = new HashSet<>();
    for (String[][] ch : changes) {
      v.add(ch[0][i]);
      v.add(ch[1][i]);
    }
    return v.size();
  }

  /** Smaller first: the types a status column most often has. */
  private static int typeRank(Column c) {
    if (c.isEnum()) {
      return 0;
    }
    switch (c.typeName()) {
      case "int2":
        return 1;
      case "text":
      case "varchar":
      case "bpchar":
        return 2;
      default:
        return 3;
    }
  }

  private static String rows(long n) {
    return n == 1 ? "1 row" : n + " rows";
  }

  private static String text(String v) {
    return v == null ? NULL : v;
  }

  private static Map<String, Long> count(List<String[]> rows, Function<String[], String> value) {
    Map<String, Long> n = new LinkedHashMap<>();
    for (String[] r : rows) {
      n.merge(text(value.apply(r)), 1L, Long::sum);
    }
    return n.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .collect(
            Collectors.toMap(
                Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
  }

  private static String columnList(String prefix, List<Column> columns) {
    return columns.stream().map(c -> prefix + Names.quote(c.name())).collect(joining());
  }

  private static java.util.stream.Collector<CharSequence, ?, String> joining() {
    return Collectors.joining(", ");
  }

  /**
   * What the motion says.
   *
   * @param motion the figures, for the analysis
   * @param column the status column the roles are about, if any
   * @param roles value to {@code pending}, {@code in-progress}, {@code done} or {@code failed}
   * @param bookkeeping columns that changed with the status
   * @param notes the evidence and each inference with the figures it rests on
   */
  public record Inference(
      Motion motion,
      Optional<String> column,
      Map<String, String> roles,
      List<String> bookkeeping,
      List<String> notes) {}
}
