package dev.unpoll.migration.internal;

import dev.unpoll.contract.Identifiers;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The migration operator's role as SQL ({@code unpoll grants --operator}): the role that runs
 * {@code analyze}, {@code plan}, {@code capture} ... {@code rollback}, {@code status} and {@code
 * doctor}. Pure text: nothing connects to a server, so what depends on the catalog (who owns each
 * captured table, whether the publication exists) is looked up by the script itself, in DO blocks,
 * when the superuser runs it. What each grant is for:
 *
 * <ul>
 *   <li>{@code LOGIN REPLICATION}: {@code capture} creates the replication slot, {@code rollback}
 *       drops it;
 *   <li>{@code CREATE} on the database: {@code capture} creates the {@code unpoll} control schema
 *       and the publication;
 *   <li>ownership of the {@code unpoll} schema, its tables and the heartbeat table: the phases
 *       write the schema; {@code capture} adds the heartbeat table to the publication;
 *   <li>{@code CREATE} on the heartbeat table's schema: {@code capture} runs {@code CREATE TABLE IF
 *       NOT EXISTS} for it, which PostgreSQL checks against that privilege even when the table
 *       exists;
 *   <li>membership in each captured table's owner: PostgreSQL lets only a table's owner add it to a
 *       publication or drop it from one (the script refuses a table a superuser owns: membership in
 *       a superuser role would give the operator far more than it needs);
 *   <li>ownership of the publication when it exists already (e.g. created by the relay's script):
 *       only its owner may alter it;
 *   <li>membership in the relay's role ({@code source.user}), when it exists and is no superuser:
 *       {@code rollback} drops the relay's offsets and backlog ledger, which that role owns;
 *   <li>{@code SELECT} on the consumers' {@code unpoll_processed} and {@code unpoll_shadow_ledger}
 *       when they exist: {@code verify} and the shadow/dual gates read them;
 *   <li>{@code pg_read_all_stats}: {@code analyze} reads the poller's statements in {@code
 *       pg_stat_statements}, whose text is hidden from other roles without it.
 * </ul>
 */
public final class OperatorGrants {
  /** The operator's role when none is named. */
  public static final String DEFAULT_ROLE = "unpoll_operator";

  /** The consumer tables verify and the gates read, when they exist. */
  static final List<String> CONSUMER_TABLES = List.of("unpoll_processed", "unpoll_shadow_ledger");

  private OperatorGrants() {}

  /**
   * The statements, each ending with {@code ;} and preceded by comment lines saying what it is for.
   *
   * @param database the database's name
   * @param publication the relay's publication
   * @param slot the relay's slot
   * @param relayRole the relay's role ({@code source.user}); null: unknown
   * @param tables the captured tables (at least one)
   * @param role the operator's role
   * @throws MigrationException (usage) when the role name is not a valid identifier or there is no
   *     table
   */
  public static List<String> statements(
      String database,
      String publication,
      String slot,
      String relayRole,
      List<TableName> tables,
      String role) {
    String problem = Identifiers.problem(role);
    if (problem != null) {
      throw MigrationException.usage("--role: '" + role + "' " + problem);
    }
    if (tables.isEmpty()) {
      throw MigrationException.usage(
          "no table: pass --table <schema.table> (repeatable), or --config unpoll.yaml with"
              + " tables; the operator's role needs the owner of each table it migrates");
    }
    String r = Identifiers.quote(role);
    Set<TableName> captured = new LinkedHashSet<>(tables);
    Set<String> schemas = new LinkedHashSet<>();
    captured.forEach(t -> schemas.add(t.schema()));
    String control = Identifiers.quote(ControlSchema.SCHEMA);

    List<String> sql = new ArrayList<>();
    sql.add(
        "-- the unpoll migration operator's role for publication "
            + publication
            + ", slot "
            + slot
            + ", database "
            + database
            + "\n-- run as a superuser (only a superuser may give REPLICATION); safe to run again."
            + "\n-- the password is not in this script: set it afterwards, in psql: \\password "
            + r
            + "\n-- capture creates the replication slot, rollback drops it: REPLICATION\n"
            + doBlock(
                "IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = "
                    + literal(role)
                    + ") THEN\n    CREATE ROLE "
                    + r
                    + " LOGIN REPLICATION;\n  END IF;"));
    sql.add("ALTER ROLE " + r + " LOGIN REPLICATION;");
    sql.add(
        "-- capture creates the control schema and the publication: CREATE on the database\n"
            + "GRANT CONNECT, CREATE ON DATABASE "
            + Identifiers.quote(database)
            + " TO "
            + r
            + ";");
    sql.add(
        "-- the control schema: each table's phase and its log, the operator's own\n"
            + "CREATE SCHEMA IF NOT EXISTS "
            + control
            + " AUTHORIZATION "
            + r
            + ";");
    sql.add("ALTER SCHEMA " + control + " OWNER TO " + r + ";");
    List<String> owned = new ArrayList<>();
    for (String t : List.of("migration", "migration_log")) {
      TableName table = new TableName(ControlSchema.SCHEMA, t);
      owned.add(
          "IF to_regclass("
              + literal(table.quoted())
              + ") IS NOT NULL THEN\n    ALTER TABLE "
              + table.quoted()
              + " OWNER TO "
              + r
              + ";\n  END IF;");
    }
    sql.add(doBlock(String.join("\n  ", owned)));
    sql.add(
        "-- the heartbeat table: capture adds it to the publication, which needs its ownership\n"
            + dev.unpoll.contract.RelayNames.heartbeatTableDdl()
            + ";");
    sql.add("ALTER TABLE " + ControlSchema.HEARTBEAT.quoted() + " OWNER TO " + r + ";");
    sql.add(
        "-- capture runs CREATE TABLE IF NOT EXISTS for it, which PostgreSQL checks against CREATE"
            + " on\n-- its schema even when the table exists\nGRANT USAGE, CREATE ON SCHEMA "
            + Identifiers.quote(ControlSchema.HEARTBEAT.schema())
            + " TO "
            + r
            + ";");
    schemas.remove(ControlSchema.HEARTBEAT.schema());
    boolean first = true;
    for (String schema : schemas) {
      sql.add(
          (first ? "-- the captured tables' schemas\n" : "")
              + "GRANT USAGE ON SCHEMA "
              + Identifiers.quote(schema)
              + " TO "
              + r
              + ";");
      first = false;
    }
    first = true;
    for (TableName t : captured) {
      sql.add(
          (first
                  ? "-- only a table's owner may add it to a publication or drop it from one:"
                      + " the operator\n-- becomes a member of each captured table's owner"
                      + " (never of a superuser)\n"
                  : "")
              + doBlock(ownerMembership(t, role), "DECLARE\n  owner name;\n"));
      first = false;
    }
    sql.add(
        "-- only a publication's owner may alter it: the operator's, when it exists already\n"
            + doBlock(
                "IF EXISTS (SELECT FROM pg_catalog.pg_publication WHERE pubname = "
                    + literal(publication)
                    + ") THEN\n    ALTER PUBLICATION "
                    + Identifiers.quote(publication)
                    + " OWNER TO "
                    + r
                    + ";\n  END IF;"));
    if (relayRole != null && !relayRole.equals(role)) {
      sql.add(
          "-- rollback drops the relay's offsets and backlog ledger with the slot; the relay's"
              + " role owns them\n-- (skipped while that role does not exist: run this again"
              + " after the relay's script)\n"
              + doBlock(
                  "IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = "
                      + literal(relayRole)
                      + " AND NOT rolsuper) AND NOT pg_has_role("
                      + literal(role)
                      + ", "
                      + literal(relayRole)
                      + ", 'MEMBER') THEN\n    GRANT "
                      + Identifiers.quote(relayRole)
                      + " TO "
                      + r
                      + ";\n  END IF;"));
    }
    List<String> consumer = new ArrayList<>();
    for (String t : CONSUMER_TABLES) {
      consumer.add(
          "IF to_regclass("
              + literal(t)
              + ") IS NOT NULL THEN\n    GRANT SELECT ON TABLE "
              + Identifiers.quote(t)
              + " TO "
              + r
              + ";\n  END IF;");
    }
    sql.add(
        "-- verify and the shadow and dual gates read what the consumers recorded\n"
            + "-- (skipped while a table does not exist: run this again once the consumers ran)\n"
            + doBlock(String.join("\n  ", consumer)));
    sql.add(
        "-- analyze reads the poller's statements in pg_stat_statements (optional: without it,"
            + " analyze\n-- uses the table's data alone)\nGRANT pg_read_all_stats TO "
            + r
            + ";");
    return List.copyOf(sql);
  }

  /** The DO block body that makes {@code role} a member of {@code t}'s owner. */
  private static String ownerMembership(TableName t, String role) {
    String display = literal(t.display());
    return "SELECT pg_catalog.pg_get_userbyid(relowner) INTO owner FROM pg_catalog.pg_class"
        + " WHERE oid = to_regclass("
        + literal(t.quoted())
        + ");\n  IF owner IS NULL THEN\n    RAISE EXCEPTION '%', 'table ' || "
        + display
        + " || ' does not exist: create it first, or check the table name';\n  END IF;\n"
        + "  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = owner) THEN\n"
        + "    RAISE EXCEPTION '%', 'table ' || "
        + display
        + " || ' is owned by the superuser ' || owner || ': give it an owner role first"
        + " (ALTER TABLE ... OWNER TO <role>), then run this again';\n  END IF;\n"
        + "  IF owner <> "
        + literal(role)
        + " AND NOT pg_has_role("
        + literal(role)
        + ", owner, 'MEMBER') THEN\n    EXECUTE format('GRANT %I TO %I', owner, "
        + literal(role)
        + ");\n  END IF;";
  }

  private static String doBlock(String body) {
    return doBlock(body, "");
  }

  /** A DO block around {@code body}, dollar-quoted with a tag the body does not contain. */
  private static String doBlock(String body, String declare) {
    String tag = "$unpoll$";
    for (int i = 1; body.contains(tag.substring(0, tag.length() - 1)); i++) {
      tag = "$unpoll" + i + "$";
    }
    return "DO " + tag + "\n" + declare + "BEGIN\n  " + body + "\nEND\n" + tag + ";";
  }

  private static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }
}
