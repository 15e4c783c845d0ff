package dev.unpoll.contract;

import java.util.regex.Pattern;

/**
 * The names the relay owns in the source database, and the rules for the names a user picks for it.
 * The relay creates and checks them; the migration engine and {@code unpoll doctor} read them.
 */
public final class RelayNames {

  /**
   * The table the relay's heartbeats write to. It belongs in the relay's publication: its writes
   * move the slot forward while the captured tables are idle, so an idle table does not pin WAL.
   * The relay creates it when missing; {@code unpoll capture} creates it ahead of the relay.
   */
  public static final TableName HEARTBEAT_TABLE = new TableName("public", "unpoll_relay_heartbeat");

  /**
   * The least-privilege role {@code unpoll grants} prints for the relay when none is named; its
   * schema of the same name holds the relay's offsets table and backlog ledger.
   */
  public static final String DEFAULT_ROLE = "unpoll_relay";

  /** Prefix of the relay's JDBC offsets table; the slot name follows it. */
  public static final String OFFSETS_TABLE_PREFIX = "unpoll_relay_offsets_";

  /** Prefix of the relay's backlog ledger table; the slot name follows it. */
  public static final String BACKLOG_TABLE_PREFIX = "unpoll_relay_backlog_";

  /**
   * What a replication slot name must be: the relay names its offsets table {@code
   * unpoll_relay_offsets_<slot>}, which must fit PostgreSQL's 63-byte identifiers.
   */
  public static final String SLOT_NAME_RULE =
      "1 to 42 characters of a-z, 0-9 and _ (the offsets table unpoll_relay_offsets_<slot> must"
          + " fit in 63)";

  /** What a publication name must be. */
  public static final String PUBLICATION_NAME_RULE =
      "1 to 63 characters of a-z, 0-9 and _, starting with a letter or _";

  private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,42}");
  private static final Pattern PUBLICATION_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private RelayNames() {}

  /** Whether {@code slot} follows {@link #SLOT_NAME_RULE}. */
  public static boolean isValidSlotName(String slot) {
    return slot != null && SLOT_NAME.matcher(slot).matches();
  }

  /** Whether {@code publication} follows {@link #PUBLICATION_NAME_RULE}. */
  public static boolean isValidPublicationName(String publication) {
    return publication != null && PUBLICATION_NAME.matcher(publication).matches();
  }

  /**
   * A slot name (and publication name) for a relay of {@code database}: {@code unpoll_} and the
   * database's name in lower case, characters the rules do not allow as {@code _}, cut to fit
   * {@link #SLOT_NAME_RULE}.
   */
  public static String defaultSlotFor(String database) {
    String base =
        "unpoll_" + database.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    return base.length() > 42 ? base.substring(0, 42) : base;
  }

  /** The relay's JDBC offsets table for {@code slot} (in the connection's default schema). */
  public static String offsetsTable(String slot) {
    return OFFSETS_TABLE_PREFIX + slot;
  }

  /**
   * The relay's backlog ledger table for {@code slot} (in the connection's default schema): which
   * tables' backlogs are done.
   */
  public static String backlogTable(String slot) {
    return BACKLOG_TABLE_PREFIX + slot;
  }

  /** DDL of {@link #HEARTBEAT_TABLE} (idempotent). */
  public static String heartbeatTableDdl() {
    return "CREATE TABLE IF NOT EXISTS "
        + HEARTBEAT_TABLE.quoted()
        + " (slot text PRIMARY KEY, beat_at timestamptz NOT NULL)";
  }
}
