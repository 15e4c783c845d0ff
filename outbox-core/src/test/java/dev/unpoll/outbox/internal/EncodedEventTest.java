package dev.unpoll.outbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EncodedEventTest {
  private static final UUID ID = UUID.fromString("0193a5c2-7b1e-7c3d-8e4f-0123456789ab");
  private static final Instant AT = Instant.parse("2026-11-21T19:56:52.123456Z");

  @Test
  void writesTheWalMessageOfTheContractForAJsonPayload() {
    EncodedEvent e =
        new EncodedEvent(
            ID,
            "order",
            "42",
            "OrderCreated",
            AT,
            Map.of("trace", "abc"),
            "application/json",
            "{\"orderId\":42}",
            true,
            false);
    assertThat(e.walMessageJson())
        .isEqualTo(
            "{\"v\":1,\"id\":\"0193a5c2-7b1e-7c3d-8e4f-0123456789ab\",\"aggregatetype\":\"order\","
                + "\"aggregateid\":\"42\",\"type\":\"OrderCreated\","
                + "\"occurred_at\":\"2026-11-21T19:56:52.123Z\",\"headers\":{\"trace\":\"abc\"},"
                + "\"content_type\":\"application/json\",\"payload\":{\"orderId\":42}}");
    assertThat(e.tableHeadersJson()).isEqualTo("{\"trace\":\"abc\"}");
  }

  @Test
  void marksBinaryPayloadsAsBase64InBothFormats() {
    EncodedEvent e =
        new EncodedEvent(
            ID,
            "doc",
            "7",
            "DocStored",
            AT,
            new LinkedHashMap<>(),
            "application/pdf",
            "\"AQID\"",
            false,
            true);
    assertThat(e.walMessageJson())
        .contains(
            "\"content_type\":\"application/pdf\",\"payload_encoding\":\"base64\","
                + "\"payload\":\"AQID\"}");
    assertThat(e.tableHeadersJson())
        .isEqualTo("{\"content-type\":\"application/pdf\",\"unpoll_payload_encoding\":\"base64\"}");
  }

  @Test
  void carriesTheContentTypeOfTextPayloadsInTableHeadersAndWritesNullPayloads() {
    EncodedEvent text =
        new EncodedEvent(ID, "a", "1", "T", AT, Map.of(), "text/plain", "\"hi\"", false, false);
    assertThat(text.tableHeadersJson()).isEqualTo("{\"content-type\":\"text/plain\"}");
    assertThat(text.walMessageJson()).doesNotContain("payload_encoding");
    EncodedEvent none =
        new EncodedEvent(ID, "a", "1", "T", AT, Map.of(), "application/json", null, true, false);
    assertThat(none.walMessageJson()).endsWith(",\"payload\":null}");
    assertThat(Json.syntaxError(none.walMessageJson())).isNull();
  }
}
