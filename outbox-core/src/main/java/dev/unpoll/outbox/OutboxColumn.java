package dev.unpoll.outbox;

/**
 * The columns of the outbox table (strategy {@link OutboxStrategy#TABLE}), each with its default
 * name. Rename one with {@link Outbox.Builder#column(OutboxColumn, String)}.
 */
public enum OutboxColumn {
  /** {@code uuid} primary key: the event id, the {@code ce_id} on Kafka. */
  ID("id", "uuid"),
  /** {@code varchar(255) not null}: routes the topic. */
  AGGREGATE_TYPE("aggregatetype", "character varying"),
  /** {@code varchar(255) not null}: the Kafka record key. */
  AGGREGATE_ID("aggregateid", "character varying"),
  /** {@code varchar(255) not null}: the event type, {@code ce_type} on Kafka. */
  TYPE("type", "character varying"),
  /** {@code jsonb}: the payload (JSON as JSON, text as a JSON string, bytes as base64). */
  PAYLOAD("payload", "jsonb"),
  /** {@code jsonb}: object of string to string, the event's headers. */
  HEADERS("headers", "jsonb"),
  /** {@code timestamptz not null default now()}: when the event occurred. */
  CREATED_AT("created_at", "timestamp with time zone");

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
