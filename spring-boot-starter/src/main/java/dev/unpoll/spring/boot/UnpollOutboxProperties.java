package dev.unpoll.spring.boot;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxColumn;
import dev.unpoll.outbox.OutboxException;
import dev.unpoll.outbox.OutboxStrategy;
import java.util.EnumMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * {@code unpoll.outbox.*}: the writer of {@code SpringOutbox}. The defaults are the library's own,
 * written here as literals so that the configuration processor publishes them to IDEs; {@code
 * UnpollPropertiesTest} pins each to the library's constant. Binding validates by building the
 * {@link Outbox}, so a bad value fails the start with the library's message (setting, value, fix).
 */
@ConfigurationProperties(prefix = UnpollOutboxProperties.PREFIX)
public class UnpollOutboxProperties implements Validator {
  /** The prefix of these properties. */
  public static final String PREFIX = "unpoll.outbox";

  /** Whether to auto-configure the outbox writer (Outbox and SpringOutbox beans). */
  private boolean enabled = true;

  /**
   * How events reach the WAL: TABLE inserts rows into the outbox table, WAL_MESSAGE writes
   * logical-decoding messages and no rows.
   */
  private OutboxStrategy strategy = OutboxStrategy.TABLE;

  /** Schema of the outbox table (TABLE). */
  private String schema = "public";

  /** Name of the outbox table (TABLE), without the schema. */
  private String table = "unpoll_outbox";

  /**
   * Column names that differ from the defaults (TABLE), keyed by column: id, aggregate-type,
   * aggregate-id, type, payload, headers, created-at. Tell the relay the same names.
   */
  private Map<OutboxColumn, String> columns = new EnumMap<>(OutboxColumn.class);

  /**
   * Delete each row in the same transaction right after inserting it (TABLE): the WAL still carries
   * the insert for the relay and the table never grows.
   */
  private boolean deleteAfterInsert = false;

  /** Prefix of the WAL messages (WAL_MESSAGE); the relay filters on it. */
  private String walPrefix = "unpoll.outbox";

  /**
   * Check at start-up that the database is ready for the writer (table, columns, types, privileges;
   * or wal_level=logical) and fail the start listing what is missing.
   */
  private boolean verifySchema = false;

  /**
   * Hold each transaction's events and write them together with its COMMIT, in one round trip,
   * instead of one round trip per publish (SpringOutbox deferToCommit).
   */
  private boolean deferToCommit = false;

  Outbox.Builder toBuilder() {
    return Outbox.builder()
        .strategy(strategy)
        .schema(schema)
        .table(table)
        .columns(columns)
        .deleteAfterInsert(deleteAfterInsert)
        .walPrefix(walPrefix);
  }

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public OutboxStrategy getStrategy() {
    return strategy;
  }

  public void setStrategy(OutboxStrategy strategy) {
    this.strategy = strategy;
  }

  public String getSchema() {
    return schema;
  }

  public void setSchema(String schema) {
    this.schema = schema;
  }

  public String getTable() {
    return table;
  }

  public void setTable(String table) {
    this.table = table;
  }

  public Map<OutboxColumn, String> getColumns() {
    return columns;
  }

  public void setColumns(Map<OutboxColumn, String> columns) {
    this.columns = columns;
  }

  public boolean isDeleteAfterInsert() {
    return deleteAfterInsert;
  }

  public void setDeleteAfterInsert(boolean deleteAfterInsert) {
    this.deleteAfterInsert = deleteAfterInsert;
  }

  public String getWalPrefix() {
    return walPrefix;
  }

  public void setWalPrefix(String walPrefix) {
    this.walPrefix = walPrefix;
  }

  public boolean isVerifySchema() {
    return verifySchema;
  }

  public void setVerifySchema(boolean verifySchema) {
    this.verifySchema = verifySchema;
  }

  public boolean isDeferToCommit() {
    return deferToCommit;
  }

  public void setDeferToCommit(boolean deferToCommit) {
    this.deferToCommit = deferToCommit;
  }

  @Override
  public boolean supports(Class<?> type) {
    return UnpollOutboxProperties.class.isAssignableFrom(type);
  }

  @Override
  public void validate(Object target, Errors errors) {
    UnpollOutboxProperties p = (UnpollOutboxProperties) target;
    if (!p.enabled) {
      return;
    }
    try {
      p.toBuilder().build();
    } catch (OutboxException e) {
      errors.reject("unpoll.invalid", PREFIX + ": " + e.getMessage());
    }
  }
}
