package dev.unpoll.contract;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The Kafka header names of the event format (CloudEvents 1.0, Kafka protocol binding, binary
 * content mode, plus unpoll's own diagnostics); see docs/reference/event-format.md. The relay
 * writes them, the consumers and the command line read them, the outbox keeps applications from
 * shadowing them.
 */
public final class Headers {

  /** {@value}: always {@link #SPEC_VERSION_1_0}. */
  public static final String SPECVERSION = "ce_specversion";

  /** The CloudEvents version the relay writes. */
  public static final String SPEC_VERSION_1_0 = "1.0";

  /** {@value}: the idempotency key ({@code schema.table:<canonical key>}, or the outbox id). */
  public static final String ID = "ce_id";

  /** {@value}: a URI reference naming the source table ({@link #source}). */
  public static final String SOURCE = "ce_source";

  /** {@value}: the event type. */
  public static final String TYPE = "ce_type";

  /** {@value}: the source transaction's commit time, ISO-8601 UTC with milliseconds. */
  public static final String TIME = "ce_time";

  /** {@value}: the record key. */
  public static final String SUBJECT = "ce_subject";

  /** {@value}: the payload's media type. */
  public static final String CONTENT_TYPE = "content-type";

  /** {@value}: the change's LSN in PostgreSQL's notation (diagnostics). */
  public static final String LSN = "unpoll_lsn";

  /**
   * {@value}: the source transaction id (decimal, 32 bits); the dual-run claim uses it to tell a
   * row whose commit is not visible yet from a deleted one.
   */
  public static final String TXID = "unpoll_txid";

  /** {@value}: an outbox event header telling the relay to decode a base64 payload. */
  public static final String PAYLOAD_ENCODING = "unpoll_payload_encoding";

  /** Prefixes of header names the event format owns; an application's headers may not use them. */
  public static final List<String> RESERVED_PREFIXES = List.of("ce_", "unpoll_");

  /**
   * The W3C trace context of the transaction that wrote an outbox event (CloudEvents' distributed
   * tracing extension, Kafka binding): {@code traceparent}. Written by the outbox when
   * OpenTelemetry is on the writer's classpath and a span is current; legacy rows carry none.
   */
  public static final String TRACEPARENT = "ce_traceparent";

  /** The W3C {@code tracestate} that goes with {@link #TRACEPARENT}, when there is one. */
  public static final String TRACESTATE = "ce_tracestate";

  private Headers() {}

  /**
   * The {@link #SOURCE} of a change: {@code /unpoll/<database>/<schema.table>}, each segment
   * percent-encoded (RFC 3986), so a table named with a space or a quote still gives a valid URI
   * reference ({@code /unpoll/fin/fin.Settlement%20Batch}).
   */
  public static String source(String database, String dottedTable) {
    return "/unpoll/" + segment(database) + "/" + segment(dottedTable);
  }

  /** One path segment, percent-encoded where RFC 3986's {@code pchar} does not allow it as is. */
  static String segment(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
      int u = c & 0xFF;
      if ((u >= 'a' && u <= 'z')
          || (u >= 'A' && u <= 'Z')
          || (u >= '0' && u <= '9')
          || "-._~!$&'()*+,;=:@".indexOf(u) >= 0) {
        b.append((char) u);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit(u >> 4, 16)));
        b.append(Character.toUpperCase(Character.forDigit(u & 0xF, 16)));
      }
    }
    return b.toString();
  }
}
