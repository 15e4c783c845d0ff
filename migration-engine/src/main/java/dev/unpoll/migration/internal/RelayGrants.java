package dev.unpoll.migration.internal;

import dev.unpoll.contract.Identifiers;
import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.JdbcUrl;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.MigrationException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The least-privilege role of the relay as SQL ({@code unpoll grants}): pure text from the typed
 * configuration, every identifier quoted, no password. What each grant is for:
 *
 * <ul>
 *   <li>{@code LOGIN REPLICATION}: the relay streams the slot over a replication connection and
 *       creates the slot at its first start;
 *   <li>a schema of its own, named after the role and first on its {@code search_path}: the relay
 *       creates its offsets table and its backlog ledger there (PostgreSQL 15 and later give no
 *       {@code CREATE} on {@code public});
 *   <li>{@code SELECT} on the captured tables: a backlog snapshot reads their pending rows;
 *   <li>{@code SELECT, INSERT, UPDATE} on the heartbeat table: the heartbeat upsert;
 *   <li>the publication, created here when missing: creating it needs the tables' ownership, which
 *       the relay does not get.
 * </ul>
 */
public final class RelayGrants {
  private RelayGrants() {}

  /**
   * The statements, each ending with {@code ;} and preceded by comment lines saying what it is for.
   *
   * @throws MigrationException (usage) when the role name is not a valid identifier
   */
  public static List<String> statements(UnpollConfig config, String role) {
    String problem = Identifiers.problem(role);
    if (problem != null) {
      throw MigrationException.usage("--role: '" + role + "' " + problem);
    }
    UnpollConfig.Source source = config.source();
    String r = Identifiers.quote(role);
    String database = JdbcUrl.parse(source.jdbcUrl()).map(JdbcUrl::database).orElseThrow();
    String slot = source.slot();
    String publication = source.publication();
    Set<TableName> captured = new LinkedHashSet<>();
    config.tables().forEach(m -> captured.add(m.table()));
    config.outbox().flatMap(UnpollConfig.Outbox::table).ifPresent(captured::add);
    Set<String> schemas = new LinkedHashSet<>();
    captured.forEach(t -> schemas.add(t.schema()));
    schemas.add(RelayNames.HEARTBEAT_TABLE.schema());

    List<String> sql = new ArrayList<>();
    sql.add(
        "-- the unpoll relay's least-privilege role for slot "
            + slot
            + ", publication "
            + publication
            + ", database "
            + database
            + "\n-- run as a superuser (only a superuser may give REPLICATION); safe to run again."
            + "\n-- the password is not in this script: set it afterwards, in psql: \\password "
            + r
            + "\n"
            + doBlock(
                "IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = "
                    + literal(role)
                    + ") THEN\n    CREATE ROLE "
                    + r
                    + " LOGIN REPLICATION;\n  END IF;"));
    sql.add("ALTER ROLE " + r + " LOGIN REPLICATION;");
    sql.add("GRANT CONNECT ON DATABASE " + Identifiers.quote(database) + " TO " + r + ";");
    sql.add(
        "-- the relay's own schema: it creates its offsets table ("
            + RelayNames.offsetsTable(slot)
            + ")\n-- and backlog ledger ("
            + RelayNames.backlogTable(slot)
            + ") there at its first start\nCREATE SCHEMA IF NOT EXISTS "
            + r
            + " AUTHORIZATION "
            + r
            + ";");
    sql.add(
        "ALTER ROLE "
            + r
            + " IN DATABASE "
            + Identifiers.quote(database)
            + " SET search_path = "
            + r
            + ", public;");
    sql.add(
        "-- a relay that ran as another user kept them in public: moved here, offsets and all\n"
            + doBlock(
                moveFromPublic(role, RelayNames.offsetsTable(slot))
                    + "\n  "
                    + moveFromPublic(role, RelayNames.backlogTable(slot))));
    boolean first = true;
    for (String schema : schemas) {
      sql.add(
          (first ? "-- the captured tables: a backlog snapshot reads their pending rows\n" : "")
              + "GRANT USAGE ON SCHEMA "
              + Identifiers.quote(schema)
              + " TO "
              + r
              + ";");
      first = false;
    }
    for (TableName t : captured) {
      sql.add("GRANT SELECT ON TABLE " + t.quoted() + " TO " + r + ";");
    }
    sql.add(
        "-- the heartbeat table: the relay's heartbeat upserts one row per slot\n"
            + RelayNames.heartbeatTableDdl()
            + ";");
    sql.add(
        "GRANT SELECT, INSERT, UPDATE ON TABLE "
            + RelayNames.HEARTBEAT_TABLE.quoted()
            + " TO "
            + r
            + ";");
    List<String> members = new ArrayList<>();
    captured.forEach(t -> members.add(t.quoted()));
    members.add(RelayNames.HEARTBEAT_TABLE.quoted());
    sql.add(
        "-- the publication, when missing (creating it needs the tables' ownership);\n"
            + "-- the replication slot "
            + slot
            + " is created by the relay at its first start\n"
            + doBlock(
                "IF NOT EXISTS (SELECT FROM pg_catalog.pg_publication WHERE pubname = "
                    + literal(publication)
                    + ") THEN\n    CREATE PUBLICATION "
                    + Identifiers.quote(publication)
                    + " FOR TABLE "
                    + String.join(", ", members)
                    + ";\n  END IF;"));
    return List.copyOf(sql);
  }

  private static String moveFromPublic(String role, String table) {
    String pub = Identifiers.quote("public") + "." + Identifiers.quote(table);
    String own = Identifiers.quote(role) + "." + Identifiers.quote(table);
    return "IF to_regclass("
        + literal(pub)
        + ") IS NOT NULL AND to_regclass("
        + literal(own)
        + ") IS NULL THEN\n    ALTER TABLE "
        + pub
        + " SET SCHEMA "
        + Identifiers.quote(role)
        + ";\n    ALTER TABLE "
        + own
        + " OWNER TO "
        + Identifiers.quote(role)
        + ";\n  END IF;";
  }

  /** A DO block around {@code body}, dollar-quoted with a tag the body does not contain. */
  private static String doBlock(String body) {
    String tag = "$unpoll$";
    for (int i = 1; body.contains(tag.substring(0, tag.length() - 1)); i++) {
      tag = "$unpoll" + i + "$";
    }
    return "DO " + tag + "\nBEGIN\n  " + body + "\nEND\n" + tag + ";";
  }

  private static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }
}
