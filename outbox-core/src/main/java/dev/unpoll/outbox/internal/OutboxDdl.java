package dev.unpoll.outbox.internal;

import dev.unpoll.outbox.OutboxColumn;
import java.util.EnumMap;

/** The outbox table's DDL for the configured names; the default is shipped as a resource. */
public final class OutboxDdl {
  /** Classpath location of the DDL with default names (Flyway/Liquibase friendly plain SQL). */
  public static final String RESOURCE = "dev/unpoll/outbox/unpoll_outbox.sql";

  private OutboxDdl() {}

  /** {@code CREATE TABLE} for the given names, every identifier quoted. */
  public static String createTable(
      String schema, String table, EnumMap<OutboxColumn, String> columns) {
    return "-- unpoll outbox table (strategy TABLE), compatible with Debezium's Outbox Event Router.\n"
        + "-- Event format: docs/reference/event-format.md\n"
        + "CREATE TABLE "
        + Identifiers.quote(schema)
        + "."
        + Identifiers.quote(table)
        + " (\n"
        + "  "
        + q(columns, OutboxColumn.ID)
        + " uuid PRIMARY KEY,\n"
        + "  "
        + q(columns, OutboxColumn.AGGREGATE_TYPE)
        + " varchar(255) NOT NULL,\n"
        + "  "
        + q(columns, OutboxColumn.AGGREGATE_ID)
        + " varchar(255) NOT NULL,\n"
        + "  "
        + q(columns, OutboxColumn.TYPE)
        + " varchar(255) NOT NULL,\n"
        + "  "
        + q(columns, OutboxColumn.PAYLOAD)
        + " jsonb,\n"
        + "  "
        + q(columns, OutboxColumn.HEADERS)
        + " jsonb,\n"
        + "  "
        + q(columns, OutboxColumn.CREATED_AT)
        + " timestamptz NOT NULL DEFAULT now()\n"
        + ");\n";
  }

  private static String q(EnumMap<OutboxColumn, String> columns, OutboxColumn c) {
    return Identifiers.quote(columns.get(c));
  }
}
