package dev.unpoll.outbox;

import dev.unpoll.contract.OutboxFormat;

/**
 * The columns of the outbox table (strategy {@link OutboxStrategy#TABLE}), each with its default
 * name. Rename one with {@link Outbox.Builder#column(OutboxColumn, String)}, and tell the relay the
 * same name in {@code outbox.columns} (keyed by the default name).
 */
public enum OutboxColumn {
  /** {@code uuid} primary key: the event id, the {@code ce_id} on Kafka. */
  ID(OutboxFormat.ID, "uuid"),
  /** {@code varchar(255) not null}: routes the topic. */
  AGGREGATE_TYPE(OutboxFormat.AGGREGATE_TYPE, "character varying"),
  /** {@code varchar(255) not null}: the Kafka record key. */
  AGGREGATE_ID(OutboxFormat.AGGREGATE_ID, "character varying"),
  /** {@code varchar(255) not null}: the event type, {@code ce_type} on Kafka. */
  TYPE(OutboxFormat.TYPE, "character varying"),
  /** {@code jsonb}: the payload (JSON as JSON, text as a JSON string, bytes as base64). */
  PAYLOAD(OutboxFormat.PAYLOAD, "jsonb"),
  /** {@code jsonb}: object of string to string, the event's headers. */
  HEADERS(OutboxFormat.HEADERS, "jsonb"),
  /** {@code timestamptz not null default now()}: when the event occurred. */
  CREATED_AT(OutboxFormat.CREATED_AT, "timestamp with time zone");

  private final String defaultName;
  private final String dataType;

  OutboxColumn(String defaultName, String dataType) {
    this.defaultName = defaultName;
    this.dataType = dataType;
  }

  /** The column's name unless configured otherwise. */
  public String defaultName() {
    return defaultName;
  }

  /** The PostgreSQL type as {@code information_schema.columns.data_type} spells it. */
  public String dataType() {
    return dataType;
  }
}
