package dev.unpoll.consumer.internal;

import java.util.regex.Pattern;

/** Identifier validation and quoting for names that come from configuration. */
public final class Sql {
  /**
   * Accepted identifiers: what PostgreSQL accepts unquoted plus mixed case, digits, {@code $} and
   * spaces after the first character; at most 63 bytes. Quotes and control characters are refused
   * even though quoting could carry them: such names are almost always a configuration mistake.
   */
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$ ]{0,62}");

  private Sql() {}

  /** True if {@code name} is an identifier this module accepts. */
  public static boolean isValidIdentifier(String name) {
    return name != null && IDENTIFIER.matcher(name).matches();
  }

  /** The pattern valid identifiers match, for error messages. */
  public static String identifierRule() {
    return IDENTIFIER.pattern();
  }

  /** {@code "name"} with embedded double quotes doubled. */
  public static String quote(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** {@code "schema"."name"}, or {@code "name"} when schema is null. */
  public static String qualified(String schema, String name) {
    return schema == null ? quote(name) : quote(schema) + "." + quote(name);
  }
}
