package dev.unpoll.contract;

import java.util.List;

/**
 * The outbox's side of the contract: the table's default name and columns, and the WAL message
 * prefix and format version, as the writer ({@code unpoll-outbox-core}) and the relay both use
 * them. A renamed column is configured on both sides: {@code Outbox.builder().column(..)} and the
 * relay's {@code outbox.columns}.
 */
public final class OutboxFormat {

  /**
   * The outbox table's default name (in the connection's schema; the relay reads {@code public}).
   */
  public static final String DEFAULT_TABLE = "unpoll_outbox";

  /** The default prefix of outbox WAL messages ({@code pg_logical_emit_message}). */
  public static final String DEFAULT_WAL_MESSAGE_PREFIX = "unpoll.outbox";

  /** The version ({@code v}) of the WAL message's JSON content. */
  public static final int WAL_FORMAT_VERSION = 1;

  /** Column (and WAL message field) holding the event id, a UUID: {@code ce_id} on Kafka. */
  public static final String ID = "id";

  /** Column holding the aggregate type, which routes the topic. */
  public static final String AGGREGATE_TYPE = "aggregatetype";

  /** Column holding the aggregate id, the Kafka record key. */
  public static final String AGGREGATE_ID = "aggregateid";

  /** Column holding the event type, {@code ce_type} on Kafka. */
  public static final String TYPE = "type";

  /** Column holding the payload (jsonb). */
  public static final String PAYLOAD = "payload";

  /** Column holding the event's headers (jsonb object of strings). */
  public static final String HEADERS = "headers";

  /** Column holding when the event occurred. */
  public static final String CREATED_AT = "created_at";

  /** The columns the relay reads, by their default names. */
  public static final List<String> RELAY_COLUMNS =
      List.of(ID, AGGREGATE_TYPE, AGGREGATE_ID, TYPE, PAYLOAD, HEADERS);

  private OutboxFormat() {}
}
