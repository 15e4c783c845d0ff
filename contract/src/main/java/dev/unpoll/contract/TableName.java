package dev.unpoll.contract;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A PostgreSQL table name: schema and table, as stored in the catalog (case preserved).
 *
 * <p>{@link #parse(String)} reads {@code [schema.]table} the way PostgreSQL does: unquoted parts
 * fold to lower case and must be plain identifiers (letters, digits, {@code _}, {@code $});
 * double-quoted parts keep their case and may hold dots, spaces and doubled quotes ({@code
 * "Sales"."Order Queue"}); a missing schema means {@code public}. Anything else is rejected, so a
 * name can never smuggle SQL: statements use {@link #quoted()}.
 */
public record TableName(String schema, String table) {

  /** The schema used when a name has none. */
  public static final String DEFAULT_SCHEMA = "public";

  private static final Pattern PLAIN = Pattern.compile("[a-z_][a-z0-9_$]*");

  /** PostgreSQL keeps this many bytes of an identifier and truncates the rest silently. */
  private static final int MAX_IDENTIFIER_BYTES = Identifiers.MAX_BYTES;

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
          throw new IllegalArgumentException("unterminated quoted identifier");
        }
        if (part.length() == 0) {
          throw new IllegalArgumentException("empty quoted identifier");
        }
        parts.add(checkIdentifier(part.toString()));
      } else {
        int end = text.indexOf('.', i);
        end = end < 0 ? n : end;
        String part = text.substring(i, end);
        if (part.isEmpty()) {
          throw new IllegalArgumentException("empty name part");
        }
        String folded = part.toLowerCase(Locale.ROOT);
        if (!PLAIN.matcher(folded).matches()) {
          throw new IllegalArgumentException(
              "'" + part + "' is not a plain identifier (letters, digits, _; quote other names)");
        }
        parts.add(checkIdentifier(folded));
        i = end;
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
    return parts;
  }

  /**
   * Checks one identifier as PostgreSQL would keep it: not empty, no NUL, at most 63 bytes in UTF-8
   * (PostgreSQL truncates longer names silently, so the name would mean another object).
   *
   * @return {@code identifier}
   * @throws IllegalArgumentException with a message saying what is wrong
   */
  public static String checkIdentifier(String identifier) {
    String problem = Identifiers.problem(identifier);
    if (problem != null) {
      throw new IllegalArgumentException(
          (identifier == null || identifier.isEmpty() ? "an identifier" : "\"" + identifier + "\"")
              + " "
              + problem);
    }
    return identifier;
  }

  /** Quotes one identifier for SQL: double quotes, embedded quotes doubled. */
  public static String quote(String identifier) {
    return Identifiers.quote(identifier);
  }

  /** The name quoted for SQL: {@code "schema"."table"}. */
  public String quoted() {
    return quote(schema) + '.' + quote(table);
  }

  /** {@code schema.table} as Debezium and {@code ce_id} spell it (case kept, no quotes). */
  public String dotted() {
    return schema + '.' + table;
  }

  /**
   * The name as a user writes it, each part quoted only where needed ({@code public.orders}, {@code
   * "Sales"."Order Queue"}); {@link #parse} reads it back to this name. The CLI's key in {@code
   * unpoll.migration} and in its output.
   */
  public String display() {
    return displayPart(schema) + '.' + displayPart(table);
  }

  /**
   * A column name as a user writes it in {@code unpoll.yaml}, quoted only where needed ({@code
   * status}, {@code "OrderNo"}, {@code "Batch Id"}); {@link #parseColumn} reads it back to {@code
   * column}.
   */
  public static String displayColumn(String column) {
    return displayPart(column);
  }

  private static String displayPart(String part) {
    return PLAIN.matcher(part).matches() ? part : quote(part);
  }

  @Override
  public String toString() {
    return dotted();
  }
}
