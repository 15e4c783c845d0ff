package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;

/** Table names and identifiers from the user, read with the relay's {@link TableName}. */
public final class Names {
  private Names() {}

  /**
   * Parses {@code --table} (or a table named in the configuration file) with {@link
   * TableName#parse}.
   *
   * @throws MigrationException of kind {@link MigrationException.Kind#USAGE} when the text is not a
   *     valid table name
   */
  public static TableName table(String text) {
    if (text == null || text.isBlank()) {
      throw MigrationException.usage("--table: a table name is required (schema.table)");
    }
    try {
      return TableName.parse(text);
    } catch (IllegalArgumentException e) {
      throw MigrationException.usage(
          "--table: '" + text + "' is not a valid table name: " + e.getMessage());
    }
  }

  /**
   * Quotes one identifier for SQL, after {@link TableName#checkIdentifier} (not empty, no NUL, at
   * most 63 bytes).
   */
  public static String quote(String identifier) {
    return TableName.quote(TableName.checkIdentifier(identifier));
  }
}
