package dev.unpoll.relay;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A PostgreSQL table name: schema and table, as stored in the catalog (case preserved).
 *
 * <p>{@link #parse(String)} reads {@code schema.table} the way PostgreSQL does: unquoted parts fold
 * to lower case, double-quoted parts keep their case ({@code "Sales"."OrderQueue"}), and a missing
 * schema means {@code public}.
 */
public record TableName(String schema, String table) {

  /** The schema used when a name has none. */
  public static final String DEFAULT_SCHEMA = "public";

  /** Validates both parts. */
  public TableName {
    if (schema == null || schema.isEmpty() || table == null || table.isEmpty()) {
      throw new IllegalArgumentException("schema and table must not be empty");
    }
    if (schema.indexOf('\0') >= 0 || table.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a name must not contain NUL");
    }
  }

  /**
   * Parses {@code table}, {@code schema.table} or their quoted forms.
   *
   * @throws IllegalArgumentException with a message saying what is wrong
   */
  public static TableName parse(String text) {
    List<String> parts = splitIdentifiers(text);
    if (parts.size() == 1) {
      return new TableName(DEFAULT_SCHEMA, parts.get(0));
    }
    if (parts.size() == 2) {
      return new TableName(parts.get(0), parts.get(1));
    }
    throw new IllegalArgumentException(
        "expected schema.table (quote mixed case: \"Sales\".\"OrderQueue\")");
  }

  /**
   * Parses one column name: unquoted folds to lower case, quoted keeps its case.
   *
   * @throws IllegalArgumentException if it is not a valid single identifier
   */
  public static String parseColumn(String text) {
    List<String> parts = splitIdentifiers(text);
    if (parts.size() != 1) {
      throw new IllegalArgumentException("a column name has no dots (quote it if it does)");
    }
    return parts.get(0);
  }

  /**
   * Splits a dotted identifier list the way PostgreSQL reads it.
   *
   * @throws IllegalArgumentException if a part is empty, unterminated or not a valid identifier
   */
  static List<String> splitIdentifiers(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("must not be empty");
    }
    List<String> parts = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (true) {
      StringBuilder part = new StringBuilder();
      if (i < n && text.charAt(i) == '"') {
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
          throw new IllegalArgumentException("unterminated quoted identifier");
        }
        if (part.length() == 0) {
          throw new IllegalArgumentException("empty quoted identifier");
        }
      } else {
        while (i < n && text.charAt(i) != '.') {
          char c = text.charAt(i);
          boolean ok =
              Character.isLetter(c)
                  || c == '_'
                  || (part.length() > 0 && (Character.isDigit(c) || c == '$'));
          if (!ok) {
            throw new IllegalArgumentException(
                "invalid character '" + c + "' (quote the name if it is really part of it)");
          }
          part.append(c);
          i++;
        }
        if (part.length() == 0) {
          throw new IllegalArgumentException("empty name part");
        }
        parts.add(part.toString().toLowerCase(Locale.ROOT));
        part = null;
      }
      if (part != null) {
        parts.add(part.toString());
      }
      if (i >= n) {
        break;
      }
      if (text.charAt(i) != '.') {
        throw new IllegalArgumentException("expected '.' after a quoted name");
      }
      i++;
      if (i >= n) {
        throw new IllegalArgumentException("empty name part");
      }
    }
    for (String p : parts) {
      if (p.length() > 63) {
        throw new IllegalArgumentException("\"" + p + "\" is longer than 63 bytes");
      }
    }
    return parts;
  }

  /** Quotes one identifier for SQL: double quotes, embedded quotes doubled. */
  public static String quote(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }

  /** The name quoted for SQL: {@code "schema"."table"}. */
  public String quoted() {
    return quote(schema) + '.' + quote(table);
  }

  /** {@code schema.table} as Debezium and {@code ce_id} spell it (case kept, no quotes). */
  public String dotted() {
    return schema + '.' + table;
  }

  @Override
  public String toString() {
    return dotted();
  }
}
