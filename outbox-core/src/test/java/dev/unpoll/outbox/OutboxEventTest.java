package dev.unpoll.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class OutboxEventTest {

  @Test
  void namesEveryMissingFieldAtOnce() {
    assertThatThrownBy(() -> OutboxEvent.builder().aggregateId(" ").build())
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("aggregateType: required, was null")
        .hasMessageContaining("aggregateId: required, was blank")
        .hasMessageContaining("type: required, was null");
  }

  @Test
  void rejectsNullAggregateIdAndOverlongNames() {
    assertThatThrownBy(() -> OutboxEvent.of("order", null, "OrderCreated", "x"))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("of type OrderCreated")
        .hasMessageContaining("aggregateId: required");
    assertThatThrownBy(() -> OutboxEvent.of("order", "1", "t".repeat(256), "x"))
        .hasMessageContaining("type: at most 255 characters");
  }

  @Test
  void generatesAUuidV7UnlessTheCallerSetsTheId() {
    OutboxEvent generated = OutboxEvent.of("order", "1", "OrderCreated", null);
    assertThat(generated.id().version()).isEqualTo(7);
    UUID mine = UUID.randomUUID();
    OutboxEvent own =
        OutboxEvent.builder().id(mine).aggregate("order", "1").type("OrderCreated").build();
    assertThat(own.id()).isEqualTo(mine);
    assertThat(generated.withId(mine).id()).isEqualTo(mine);
  }

  @Test
  void rejectsHeadersTheWriterOwnsAndNullValues() {
    assertThatThrownBy(
            () ->
                OutboxEvent.builder()
                    .aggregate("order", "1")
                    .type("T")
                    .header("Content-Type", "text/plain")
                    .header("trace", null)
                    .build())
        .hasMessageContaining("header 'Content-Type': set by the outbox")
        .hasMessageContaining("header 'trace': value must not be null");
  }

  @Test
  void rejectsHeadersThatWouldShadowTheRelaysCloudEventsAndOrderingHeaders() {
    assertThatThrownBy(
            () ->
                OutboxEvent.builder()
                    .aggregate("order", "1")
                    .type("T")
                    .header("ce_id", "my-own-key")
                    .header("UNPOLL_LSN", "0/0")
                    .header("trace-id", "abc")
                    .build())
        .hasMessageContaining("header 'ce_id': names starting with ce_ or unpoll_")
        .hasMessageContaining("header 'UNPOLL_LSN'")
        .message()
        .doesNotContain("trace-id");
  }

  @Test
  void rejectsRawJsonTextThatIsNotJson() {
    assertThatThrownBy(
            () ->
                OutboxEvent.builder()
                    .aggregate("order", "1")
                    .type("OrderCreated")
                    .payload("{not json", "application/json")
                    .build())
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("of type OrderCreated")
        .hasMessageContaining("not valid JSON");
  }

  @Test
  void rejectsNulCharactersPostgresCannotStore() {
    assertThatThrownBy(
            () ->
                OutboxEvent.builder()
                    .aggregate("order", "4\u00002")
                    .type("T")
                    .header("h", "a\u0000")
                    .payload("x\u0000y", "text/plain")
                    .build())
        .hasMessageContaining("aggregateId: contains U+0000")
        .hasMessageContaining("header 'h': contains U+0000")
        .hasMessageContaining("payload: contains U+0000");
    assertThatThrownBy(
            () ->
                OutboxEvent.builder()
                    .aggregate("order", "1")
                    .type("T")
                    .payload("{\"a\":\"\\u0000\"}", "application/json")
                    .build())
        .hasMessageContaining("jsonb cannot store U+0000");
  }

  @Test
  void requiresAContentTypeForRawPayloads() {
    assertThatThrownBy(
            () ->
                OutboxEvent.builder()
                    .aggregate("doc", "1")
                    .type("T")
                    .payload(new byte[] {1}, null)
                    .build())
        .hasMessageContaining("contentType: required");
  }

  @Test
  void isImmutable() {
    byte[] bytes = {1, 2, 3};
    OutboxEvent e =
        OutboxEvent.builder()
            .aggregate("doc", "1")
            .type("T")
            .payload(bytes, "application/octet-stream")
            .header("a", "b")
            .build();
    bytes[0] = 9;
    ((byte[]) e.payload())[1] = 9;
    assertThat((byte[]) e.payload()).containsExactly(1, 2, 3);
    assertThatThrownBy(() -> e.headers().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
    Instant at = Instant.parse("2026-01-01T00:00:00Z");
    assertThat(e.withOccurredAt(at).occurredAt()).contains(at);
    assertThat(e.occurredAt()).isEmpty();
  }

  @Test
  void toStringShowsCoordinatesNeverThePayload() {
    OutboxEvent e = OutboxEvent.of("order", "42", "OrderCreated", "secret-card-number");
    assertThat(e.toString()).contains("order/42", "OrderCreated").doesNotContain("secret");
  }
}
