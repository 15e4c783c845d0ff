package dev.unpoll.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The outbox writes WAL messages with encode, the relay reads them with decode: one codec. */
class WalMessageTest {

  @Test
  void whatTheWriterEncodesTheRelayDecodes() throws Exception {
    UUID id = UUID.fromString("0190f6a2-1c3d-7e4f-8a9b-0c1d2e3f4a5b");
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("trace", "a\"b\\c\nd");
    headers.put("tenant", "ü");
    String content =
        WalMessage.encode(
            id,
            "order",
            "o-1",
            "OrderCreated",
            "2026-11-21T19:56:52.123Z",
            headers,
            "application/json",
            false,
            "{\"total\":10.50}");
    assertThat(content)
        .isEqualTo(
            "{\"v\":1,\"id\":\"0190f6a2-1c3d-7e4f-8a9b-0c1d2e3f4a5b\",\"aggregatetype\":\"order\","
                + "\"aggregateid\":\"o-1\",\"type\":\"OrderCreated\","
                + "\"occurred_at\":\"2026-11-21T19:56:52.123Z\","
                + "\"headers\":{\"trace\":\"a\\\"b\\\\c\\nd\",\"tenant\":\"ü\"},"
                + "\"content_type\":\"application/json\",\"payload\":{\"total\":10.50}}");
    WalMessage.Decoded d = WalMessage.decode(content.getBytes(StandardCharsets.UTF_8));
    assertThat(d.id()).isEqualTo(id.toString());
    assertThat(d.aggregateType()).isEqualTo("order");
    assertThat(d.aggregateId()).isEqualTo("o-1");
    assertThat(d.type()).isEqualTo("OrderCreated");
    assertThat(d.headers().get("trace").asText()).isEqualTo("a\"b\\c\nd");
    assertThat(d.headers().get("tenant").asText()).isEqualTo("ü");
    assertThat(d.contentType()).isEqualTo("application/json");
    assertThat(d.payloadEncoding()).isEmpty();
    assertThat(WalMessage.text(d.payload())).isEqualTo("{\"total\":10.50}");

    String bytes =
        WalMessage.encode(
            id,
            "scan",
            "s-1",
            "Scanned",
            "2026-11-21T19:56:52.123Z",
            Map.of(),
            "application/octet-stream",
            true,
            "\"AQID\"");
    WalMessage.Decoded b = WalMessage.decode(bytes.getBytes(StandardCharsets.UTF_8));
    assertThat(b.payloadEncoding()).isEqualTo("base64");
    assertThat(b.payload().asText()).isEqualTo("AQID");
  }

  @Test
  void anotherVersionOrAMissingFieldIsRefusedWithWhat() {
    assertThatThrownBy(() -> WalMessage.decode("{\"v\":2,\"id\":\"x\"}".getBytes()))
        .isInstanceOfSatisfying(
            WalMessage.InvalidException.class, e -> assertThat(e.version()).isEqualTo(2))
        .hasMessage("has version 2; this reader reads v=1");
    assertThatThrownBy(() -> WalMessage.decode("{\"v\":1,\"id\":\"x\"}".getBytes()))
        .hasMessage("field \"aggregatetype\" is missing");
    assertThatThrownBy(() -> WalMessage.decode("nope".getBytes()))
        .hasMessageStartingWith("not JSON");
  }
}
