package dev.unpoll.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class OutboxBuilderTest {

  @Test
  void collectsEveryBadSettingInOneMessage() {
    assertThatThrownBy(
            () ->
                Outbox.builder()
                    .schema("public\0")
                    .table("x".repeat(64))
                    .column(OutboxColumn.PAYLOAD, "")
                    .walPrefix("")
                    .build())
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("is not a valid identifier: must not contain a NUL character")
        .hasMessageContaining("is not a valid identifier: is longer than 63 bytes")
        .hasMessageContaining("column(PAYLOAD): \"\" is not a valid identifier")
        .hasMessageContaining("walPrefix: must be a non-empty string");
  }

  @Test
  void rejectsDeleteAfterInsertWithWalMessages() {
    assertThatThrownBy(
            () ->
                Outbox.builder()
                    .strategy(OutboxStrategy.WAL_MESSAGE)
                    .deleteAfterInsert(true)
                    .build())
        .hasMessageContaining("deleteAfterInsert: only applies to strategy TABLE");
  }

  @Test
  void rejectsTwoColumnsWithTheSameName() {
    assertThatThrownBy(() -> Outbox.builder().column(OutboxColumn.HEADERS, "payload").build())
        .hasMessageContaining("two columns have the same name");
  }

  @Test
  void shipsTheDefaultDdlAsAClasspathResource() throws Exception {
    String resource;
    try (InputStream in = Outbox.class.getClassLoader().getResourceAsStream(Outbox.DDL_RESOURCE)) {
      assertThat(in).isNotNull();
      resource = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(Outbox.builder().build().ddl()).isEqualTo(resource);
  }

  @Test
  void quotesEveryConfiguredIdentifierInTheDdl() {
    String ddl =
        Outbox.builder()
            .schema("Sales")
            .table("order")
            .column(OutboxColumn.TYPE, "eventType")
            .build()
            .ddl();
    assertThat(ddl).contains("CREATE TABLE \"Sales\".\"order\"", "\"eventType\" varchar(255)");
  }

  @Test
  void defaultJacksonSerializerWritesJavaTimeAsIsoStrings() {
    record Shipped(String orderId, Instant at) {}
    assertThat(
            PayloadSerializer.jackson()
                .toJson(new Shipped("42", Instant.parse("2026-11-21T19:56:52.123Z"))))
        .isEqualTo("{\"orderId\":\"42\",\"at\":\"2026-11-21T19:56:52.123Z\"}");
  }

  @Test
  void noneSerializerExplainsWhatToDo() {
    assertThatThrownBy(() -> PayloadSerializer.none().toJson(1))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("jackson-databind");
  }

  @Test
  void jacksonSerializerRejectsSomethingThatIsNotAnObjectMapper() {
    assertThatThrownBy(() -> PayloadSerializer.jackson("mapper"))
        .hasMessageContaining("expected a com.fasterxml.jackson.databind.ObjectMapper");
  }
}
