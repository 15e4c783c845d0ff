package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the poller's own statements say about a table, read from {@code pg_stat_statements} when the
 * database has it: the columns its {@code SELECT ... FOR UPDATE} (or its claiming {@code UPDATE})
 * filters on, and the columns its {@code UPDATE}s set. A column the poller both filters on and sets
 * is its status column, whatever its name; every column its updates set is bookkeeping.
 *
 * <p>The statement texts are normalized by PostgreSQL (constants are {@code $n}), so they say which
 * columns, not which values; the values come from the data ({@link Analyzer}). Reading other roles'
 * statements needs {@code pg_read_all_stats} (or superuser); without it, or without the extension,
 * there is no evidence and the analysis falls back to names and data.
 *
 * @param filtered columns the poller's locking reads and claiming updates filter on, in first-seen
 *     order
 * @param set columns the poller's updates set, in first-seen order
 * @param statements the statements the evidence rests on, each with its call count, for the notes
 */
public record PollerStatements(
    Set<String> filtered, Set<String> set, Map<String, Long> statements) {

  private static final String IDENT = "(?:\"(?:[^\"]|\"\")+\"|[A-Za-z_][A-Za-z0-9_$]*)";
  private static final Pattern UPDATE =
      Pattern.compile(
          "(?is)\\bupdate\\s+(?:only\\s+)?("
              + IDENT
              + "(?:\\s*\\.\\s*"
              + IDENT
              + ")?)"
              + "(?:\\s+(?:as\\s+)?"
              + IDENT
              + ")?\\s+set\\s+(.*?)(?:\\s+where\\s+(.*?))?"
              + "(?:\\s+returning\\s+.*)?$");
  private static final Pattern FROM =
      Pattern.compile("(?i)\\bfrom\\s+(?:only\\s+)?(" + IDENT + "(?:\\s*\\.\\s*" + IDENT + ")?)");
  private static final Pattern WHERE = Pattern.compile("(?i)\\bwhere\\s+");
  private static final Pattern CONDITION =
      Pattern.compile(
          "(?i)(?:^|[\\s(,.])(" + IDENT + ")\\s*(?:=|<>|!=|\\bin\\b|\\bis\\b|\\s=\\s*any)");
  private static final Pattern ASSIGNMENT = Pattern.compile("^\\s*(" + IDENT + ")\\s*=");
  private static final int MAX_STATEMENTS = 200;

  /** The evidence for {@code table}, or empty when the extension is absent or unreadable. */
  public static Optional<PollerStatements> read(Connection c, TableName table) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'");
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return Optional.empty();
      }
    }
    Map<String, Long> texts = new LinkedHashMap<>();
    // the view fails when the library is not preloaded or the role may not read it: on an
    // auto-commit connection that only means no evidence; inside the caller's transaction the
    // error has aborted it, so it is the caller's to see
    boolean auto = c.getAutoCommit();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM"
                + " pg_database WHERE datname = current_database()) AND query ILIKE ?"
                + " AND query !~* '^\\s*(explain|create|alter|drop|copy|analy[sz]e|vacuum)'"
                + " ORDER BY calls DESC LIMIT "
                + MAX_STATEMENTS)) {
      ps.setString(
          1,
          "%" + table.table().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (rs.getString(1) != null) {
            texts.merge(rs.getString(1).strip(), rs.getLong(2), Long::sum);
          }
        }
      }
    } catch (SQLException e) {
      if (!auto) {
        throw e;
      }
      return Optional.empty(); // not preloaded, or not allowed to read it
    }
    return Optional.of(parse(texts, table)).filter(p -> !p.statements().isEmpty());
  }

  /** Reads the statements that touch {@code table}; the others are ignored. */
  static PollerStatements parse(Map<String, Long> texts, TableName table) {
    Set<String> filtered = new LinkedHashSet<>();
    Set<String> set = new LinkedHashSet<>();
    Map<String, Long> used = new LinkedHashMap<>();
    for (Map.Entry<String, Long> e : texts.entrySet()) {
      String q = e.getKey().replaceAll("\\s+", " ");
      boolean touches = false;
      Matcher u = UPDATE.matcher(q);
      if (u.find() && names(u.group(1), table)) {
        touches = true;
        for (String part : splitTopLevel(u.group(2))) {
          Matcher a = ASSIGNMENT.matcher(part);
          if (a.find()) {
            set.add(unquote(a.group(1)));
          }
        }
        if (u.group(3) != null) {
          conditions(u.group(3), filtered);
        }
      }
      // a locking read of the table, on its own or inside the claiming update
      String lower = q.toLowerCase(Locale.ROOT);
      if (lower.contains("for update") || lower.contains("for no key update")) {
        boolean reads = false;
        Matcher f = FROM.matcher(q);
        while (f.find()) {
          reads |= names(f.group(1), table);
        }
        if (reads) {
          touches = true;
          Matcher w = WHERE.matcher(q);
          while (w.find()) {
            conditions(q.substring(w.end()), filtered);
          }
        }
      }
      if (touches) {
        used.put(e.getKey(), e.getValue());
      }
    }
    return new PollerStatements(filtered, set, used);
  }

  /** The column the poller filters on and sets: its status column. */
  public Optional<String> statusColumn(List<String> exclude) {
    for (String f : filtered) {
      if (set.contains(f) && !exclude.contains(f)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }

  /** One line per statement, shortened, with its calls: what the inferences rest on. */
  public List<String> describe() {
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, Long> e : statements.entrySet()) {
      String q = e.getKey().replaceAll("\\s+", " ");
      lines.add(
          (q.length() > 120 ? q.substring(0, 117) + "..." : q) + " (" + e.getValue() + " calls)");
    }
    return lines;
  }

  private static void conditions(String where, Set<String> into) {
    String cut =
        where.split("(?i)\\b(order\\s+by|limit|for\\s+update|returning|group\\s+by)\\b")[0];
    Matcher m = CONDITION.matcher(cut);
    while (m.find()) {
      String col = unquote(m.group(1));
      String lower = col.toLowerCase(Locale.ROOT);
      if (!Set.of("and", "or", "not", "select", "where", "exists").contains(lower)) {
        into.add(col);
      }
    }
  }

  private static boolean names(String ref, TableName table) {
    List<String> parts = new ArrayList<>();
    Matcher m = Pattern.compile(IDENT).matcher(ref);
    while (m.find()) {
      parts.add(unquote(m.group()));
    }
    if (parts.size() == 1) {
      return parts.get(0).equals(table.table());
    }
    return parts.size() == 2
        && parts.get(0).equals(table.schema())
        && parts.get(1).equals(table.table());
  }

  private static String unquote(String ident) {
    return ident.startsWith("\"")
        ? ident.substring(1, ident.length() - 1).replace("\"\"", "\"")
        : ident.toLowerCase(Locale.ROOT);
  }

  private static List<String> splitTopLevel(String list) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < list.length(); i++) {
      char ch = list.charAt(i);
      if (ch == '\'') {
        quoted = !quoted;
      } else if (!quoted && ch == '(') {
        depth++;
      } else if (!quoted && ch == ')') {
        depth--;
      } else if (!quoted && depth == 0 && ch == ',') {
        parts.add(list.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(list.substring(start));
    return parts;
  }
}
