package dev.unpoll.contract;

import java.nio.charset.StandardCharsets;

/**
 * The one rule for SQL identifiers that come from configuration (schemas, tables, columns), and the
 * one way to put them into SQL. The rule is PostgreSQL's own for quoted identifiers: not empty, no
 * NUL, at most 63 bytes (longer names are silently truncated by the server). Every identifier is
 * always double-quoted, so {@code order}, {@code OrderQueue} or {@code Settlement "Batch" ü} work
 * exactly as written and nothing in a name is ever read as SQL.
 */
public final class Identifiers {

  /** PostgreSQL's NAMEDATALEN - 1. */
  public static final int MAX_BYTES = 63;

  /** The rule in words, for error messages. */
  public static final String RULE = "1 to " + MAX_BYTES + " bytes of UTF-8, no NUL character";

  private Identifiers() {}

  /** Null when {@code name} is an acceptable identifier, otherwise why not. */
  public static String problem(String name) {
    if (name == null || name.isEmpty()) {
      return "must not be empty";
    }
    if (name.indexOf('\0') >= 0) {
      return "must not contain a NUL character";
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      return "is longer than " + MAX_BYTES + " bytes (PostgreSQL would truncate it)";
    }
    return null;
  }

  /** {@code name} in double quotes, embedded double quotes doubled. */
  public static String quote(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }
}
