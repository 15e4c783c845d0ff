package dev.unpoll.outbox.internal;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * SQL identifiers from configuration: validated, then always double-quoted (so {@code order} or
 * {@code OrderOutbox} work as written and nothing is ever interpreted as SQL).
 */
public final class Identifiers {
  /** Letters, digits, underscore and dollar; not starting with a digit or dollar. */
  private static final Pattern VALID = Pattern.compile("[\\p{L}_][\\p{L}\\p{N}_$]*");

  /** PostgreSQL's NAMEDATALEN - 1; longer names are silently truncated by the server. */
  public static final int MAX_BYTES = 63;

  private Identifiers() {}

  /** Null when {@code name} is acceptable, otherwise why not. */
  public static String problem(String name) {
    if (name == null || name.isEmpty()) {
      return "must not be empty";
    }
    if (!VALID.matcher(name).matches()) {
      return "must be letters, digits, '_' or '$', not starting with a digit or '$'";
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      return "longer than " + MAX_BYTES + " bytes (PostgreSQL would truncate it)";
    }
    return null;
  }

  /** {@code name} in double quotes, embedded quotes doubled. */
  public static String quote(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }
}
