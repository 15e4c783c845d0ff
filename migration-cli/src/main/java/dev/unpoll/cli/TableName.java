package dev.unpoll.cli;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A table's schema and name as PostgreSQL stores them, parsed from user input the way PostgreSQL
 * reads it: {@code order_integration} (schema {@code public}), {@code sales.orders}, or quoted
 * parts for mixed case and special characters, {@code "Sales"."Order Queue"}. Unquoted parts fold
 * to lower case and must be plain identifiers; anything else is rejected, so a name can never
 * smuggle SQL. Every SQL statement uses {@link #quoted()}.
 *
 * @param schema the schema name, exactly as stored in {@code pg_namespace}
 * @param table the table name, exactly as stored in {@code pg_class}
 */
public record TableName(String schema, String table) {
  private static final Pattern PLAIN = Pattern.compile("[a-z_][a-z0-9_$]*");
  private static final int MAX_IDENTIFIER_BYTES = 63;

  /** Validates both parts. */
  public TableName {
    check(schema, "schema");
    check(table, "table");
  }

  /**
   * Parses {@code [schema.]table} with optional double-quoted parts.
   *
   * @throws UnpollCliException with exit code {@link Unpoll#EXIT_USAGE} when the text is not a
   *     valid table name
   */
  public static TableName parse(String text) {
    if (text == null || text.isBlank()) {
      throw UnpollCliException.usage("--table: a table name is required (schema.table)");
    }
    List<String> parts = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (i <= n) {
      if (i < n && text.charAt(i) == '"') {
        StringBuilder part = new StringBuilder();
        i++;
        boolean closed = false;
        while (i < n) {
          char c = text.charAt(i);
          if (c == '"') {
            if (i + 1 < n && text.charAt(i + 1) == '"') {
              part.append('"');
              i += 2;
              continue;
            }
            closed = true;
            i++;
            break;
          }
          part.append(c);
          i++;
        }
        if (!closed) {
          throw invalid(text, "a quoted part is not closed");
        }
        parts.add(part.toString());
      } else {
        int end = i;
        while (end < n && text.charAt(end) != '.') {
          end++;
        }
        String part = text.substring(i, end).toLowerCase(Locale.ROOT);
        if (!PLAIN.matcher(part).matches()) {
          throw invalid(
              text,
              "'"
                  + text.substring(i, end)
                  + "' is not a plain identifier (letters, digits, _; quote other names)");
        }
        parts.add(part);
        i = end;
      }
      if (i == n) {
        break;
      }
      if (text.charAt(i) != '.') {
        throw invalid(text, "expected '.' after a quoted part");
      }
      i++;
      if (i == n) {
        throw invalid(text, "ends with '.'");
      }
    }
    if (parts.size() > 2) {
      throw invalid(text, "more than two parts (expected schema.table)");
    }
    try {
      return parts.size() == 1
          ? new TableName("public", parts.get(0))
          : new TableName(parts.get(0), parts.get(1));
    } catch (IllegalArgumentException e) {
      throw invalid(text, e.getMessage());
    }
  }

  /** {@code "schema"."table"}, safe to put in SQL. */
  public String quoted() {
    return quote(schema) + "." + quote(table);
  }

  /**
   * The name as a user writes it: parts quoted only where needed ({@code public.orders}, {@code
   * "Sales"."Orders"}). Used as the key in {@code unpoll.migration} and in output.
   */
  public String display() {
    return displayPart(schema) + "." + displayPart(table);
  }

  /** {@code schema.table} unquoted, as in the {@code ce_id} header of the event format. */
  public String raw() {
    return schema + "." + table;
  }

  @Override
  public String toString() {
    return display();
  }

  /** Double-quotes one identifier, doubling embedded quotes. */
  public static String quote(String identifier) {
    check(identifier, "identifier");
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }

  private static String displayPart(String part) {
    return PLAIN.matcher(part).matches() ? part : quote(part);
  }

  private static void check(String part, String what) {
    if (part == null || part.isEmpty()) {
      throw new IllegalArgumentException(what + " name is empty");
    }
    if (part.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(what + " name contains a NUL character");
    }
    if (part.getBytes(StandardCharsets.UTF_8).length > MAX_IDENTIFIER_BYTES) {
      throw new IllegalArgumentException(
          what + " name is longer than PostgreSQL's " + MAX_IDENTIFIER_BYTES + " bytes");
    }
  }

  private static UnpollCliException invalid(String text, String why) {
    return UnpollCliException.usage("--table: '" + text + "' is not a valid table name: " + why);
  }
}
