package dev.unpoll.consumer.internal;

import dev.unpoll.contract.Identifiers;

/**
 * Identifier validation and quoting for names that come from configuration ({@link Identifiers}).
 */
public final class Sql {

  private Sql() {}

  /**
   * True if {@code name} is an identifier PostgreSQL takes quoted ({@link Identifiers#problem}).
   */
  public static boolean isValidIdentifier(String name) {
    return Identifiers.problem(name) == null;
  }

  /** The rule valid identifiers follow, for error messages. */
  public static String identifierRule() {
    return Identifiers.RULE;
  }

  /** {@code "name"} with embedded double quotes doubled. */
  public static String quote(String name) {
    return Identifiers.quote(name);
  }

  /** {@code "schema"."name"}, or {@code "name"} when schema is null. */
  public static String qualified(String schema, String name) {
    return schema == null ? quote(name) : quote(schema) + "." + quote(name);
  }
}
