package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LegacyRowsTest {
  static final String ROW =
      "{\"id\":42,\"order_id\":1001,\"amount\":12345678901234567890.123456780,"
          + "\"paid\":true,\"ref\":\"8d7c5a1e-0f43-4c55-9d59-7b0b3f3f3f3f\","
          + "\"payload\":{\"lines\":[1,2]},\"created_at\":\"2026-11-21T19:56:52.123456Z\","
          + "\"local_ts\":\"2026-11-21T19:56:52.123456\",\"due\":\"2026-11-30\","
          + "\"blob\":\"AQID\",\"note\":null}";

  static InboundEvent event(String json) {
    return InboundEvent.of(
        "orders",
        0,
        7,
        null,
        json == null ? null : json.getBytes(StandardCharsets.UTF_8),
        List.of());
  }

  @Test
  void legacyRowGivesTypedColumnValuesLikeAResultSet() throws Exception {
    AtomicReference<LegacyRow> seen = new AtomicReference<>();
    // tag::legacy-row[]
    EventHandler handler =
        LegacyRows.handler(
            (row, connection) -> {
              long id = row.getLong("id"); // was rs.getLong("id") in the poller
              BigDecimal amount = row.getBigDecimal("amount");
              seen.set(row);
            });
    // end::legacy-row[]
    handler.handle(event(ROW), null);
    LegacyRow row = seen.get();
    assertThat(row.getLong("id")).isEqualTo(42);
    assertThat(row.getInt("order_id")).isEqualTo(1001);
    assertThat(row.getBigDecimal("amount"))
        .isEqualTo(new BigDecimal("12345678901234567890.123456780"));
    assertThat(row.getBoolean("paid")).isTrue();
    assertThat(row.getUuid("ref"))
        .isEqualTo(UUID.fromString("8d7c5a1e-0f43-4c55-9d59-7b0b3f3f3f3f"));
    assertThat(row.getJson("payload").get("lines").size()).isEqualTo(2);
    assertThat(row.getInstant("created_at"))
        .isEqualTo(Instant.parse("2026-11-21T19:56:52.123456Z"));
    assertThat(row.getLocalDateTime("local_ts"))
        .isEqualTo(LocalDateTime.parse("2026-11-21T19:56:52.123456"));
    assertThat(row.getLocalDate("due")).isEqualTo(LocalDate.parse("2026-11-30"));
    assertThat(row.getBytes("blob")).containsExactly(1, 2, 3);
    assertThat(row.isNull("note")).isTrue();
    assertThat(row.getString("note")).isNull();
    assertThat(row.getObject("id")).isEqualTo(42L);
    assertThat(row.toString()).doesNotContain("1001"); // never values in logs
    assertThatThrownBy(() -> row.getLong("missing"))
        .isInstanceOf(NonRetryableException.class)
        .hasMessageContaining("column 'missing' is not in the event");
  }

  // tag::legacy-record[]
  /** The row type the poller already had; snake_case columns bind to camelCase components. */
  record OrderRow(long id, long orderId, BigDecimal amount, Instant createdAt, LocalDate due) {}

  // end::legacy-record[]

  @Test
  void typedHandlerBindsTheRowToTheCallersRecordIgnoringExtraColumns() throws Exception {
    AtomicReference<OrderRow> seen = new AtomicReference<>();
    // tag::legacy-typed[]
    EventHandler handler = LegacyRows.handler(OrderRow.class, (row, connection) -> seen.set(row));
    // end::legacy-typed[]
    handler.handle(event(ROW), null);
    assertThat(seen.get())
        .isEqualTo(
            new OrderRow(
                42,
                1001,
                new BigDecimal("12345678901234567890.123456780"),
                Instant.parse("2026-11-21T19:56:52.123456Z"),
                LocalDate.parse("2026-11-30")));
  }

  /** The poller's own row type, which read {@code payload::text}. */
  record PolledRow(long id, String payload, String note) {}

  @Test
  void jsonbColumnBindsToTheStringFieldThePollerReadItInto() throws Exception {
    AtomicReference<PolledRow> seen = new AtomicReference<>();
    LegacyRows.handler(PolledRow.class, (row, connection) -> seen.set(row))
        .handle(event(ROW), null);
    assertThat(seen.get().id()).isEqualTo(42);
    assertThat(seen.get().payload()).isEqualTo("{\"lines\":[1,2]}");
    assertThat(seen.get().note()).isNull();
  }

  @Test
  void valueThatIsNotARowIsNonRetryable() {
    assertThatThrownBy(() -> LegacyRows.handler((row, c) -> {}).handle(event("[1,2]"), null))
        .isInstanceOf(NonRetryableException.class)
        .hasMessageContaining("orders-0@7");
    assertThatThrownBy(
            () ->
                LegacyRows.handler(OrderRow.class, (row, c) -> {})
                    .handle(event("{\"id\":\"not a number\"}"), null))
        .isInstanceOf(NonRetryableException.class)
        .hasMessageContaining("does not bind to");
    assertThatThrownBy(
            () -> LegacyRows.handler(OrderRow.class, (row, c) -> {}).handle(event(null), null))
        .isInstanceOf(NonRetryableException.class)
        .hasMessageContaining("tombstone");
  }
}
