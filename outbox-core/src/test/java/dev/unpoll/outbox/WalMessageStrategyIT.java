package dev.unpoll.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class WalMessageStrategyIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SLOT = "wal_message_it";
  private static DataSource ds;
  private static final Outbox OUTBOX =
      Outbox.builder().strategy(OutboxStrategy.WAL_MESSAGE).build();

  @BeforeAll
  static void database(TestPostgres server) throws SQLException {
    ds = server.createDatabase("outbox_wal_it").dataSource();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
    }
    Decoding.createSlot(ds, SLOT);
  }

  @AfterAll
  static void dropSlot() throws SQLException {
    Decoding.dropSlot(ds, SLOT);
  }

  @BeforeEach
  void drainSlot() throws SQLException {
    Decoding.changes(ds, SLOT);
  }

  @Test
  void committedEventIsATransactionalMessageInTheContractFormat() throws Exception {
    OutboxEvent event =
        OutboxEvent.builder()
            .aggregate("order", "42")
            .type("OrderCreated")
            .payload(Map.of("orderId", 42))
            .header("trace", "abc")
            .occurredAt(Instant.parse("2026-11-21T19:56:52.123Z"))
            .build();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      TableStrategyIT.insertOrder(c, 42);
      OUTBOX.publish(c, event);
      c.commit();
    }
    List<String> messages = Decoding.messages(ds, SLOT, Outbox.DEFAULT_WAL_PREFIX);
    assertThat(messages).hasSize(1);
    JsonNode m = JSON.readTree(messages.get(0));
    assertThat(m)
        .isEqualTo(
            JSON.readTree(
                "{\"v\":1,\"id\":\""
                    + event.id()
                    + "\",\"aggregatetype\":\"order\",\"aggregateid\":\"42\","
                    + "\"type\":\"OrderCreated\",\"occurred_at\":\"2026-11-21T19:56:52.123Z\","
                    + "\"headers\":{\"trace\":\"abc\"},\"content_type\":\"application/json\","
                    + "\"payload\":{\"orderId\":42}}"));
    assertThat(countOutboxLikeTables()).as("no table at all").isZero();
  }

  @Test
  void rolledBackEventLeavesNoMessage() throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      TableStrategyIT.insertOrder(c, 7);
      OUTBOX.publish(c, OutboxEvent.of("order", "7", "OrderCreated", Map.of("orderId", 7)));
      c.rollback();
    }
    // a committed marker transaction afterwards proves the slot was read past the rollback
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      OUTBOX.publish(c, OutboxEvent.of("marker", "1", "Marker", null));
      c.commit();
    }
    List<String> messages = Decoding.messages(ds, SLOT, Outbox.DEFAULT_WAL_PREFIX);
    assertThat(messages).hasSize(1);
    assertThat(messages.get(0)).contains("\"type\":\"Marker\"").doesNotContain("OrderCreated");
  }

  @Test
  void aBatchIsEmittedInOrderInOneStatement() throws Exception {
    List<OutboxEvent> events = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      events.add(OutboxEvent.of("order", Integer.toString(i), "OrderCreated", Map.of("i", i)));
    }
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      OUTBOX.publishAll(c, events);
      c.commit();
    }
    List<String> messages = Decoding.messages(ds, SLOT, Outbox.DEFAULT_WAL_PREFIX);
    assertThat(messages).hasSize(1000);
    for (int i = 0; i < 1000; i++) {
      assertThat(JSON.readTree(messages.get(i)).get("id").asText())
          .isEqualTo(events.get(i).id().toString());
    }
  }

  @Test
  void binaryAndTextPayloadsCarryTheirContentTypeAndEncoding() throws Exception {
    OutboxEvent bytes =
        OutboxEvent.builder()
            .aggregate("doc", "1")
            .type("DocStored")
            .payload(new byte[] {1, 2, 3}, "application/pdf")
            .build();
    OutboxEvent text =
        OutboxEvent.builder()
            .aggregate("note", "2")
            .type("NoteAdded")
            .payload("line1\nline2", "text/plain")
            .build();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      OUTBOX.publishAll(c, List.of(bytes, text));
      c.commit();
    }
    List<String> messages = Decoding.messages(ds, SLOT, Outbox.DEFAULT_WAL_PREFIX);
    JsonNode b = JSON.readTree(messages.get(0));
    assertThat(b.get("content_type").asText()).isEqualTo("application/pdf");
    assertThat(b.get("payload_encoding").asText()).isEqualTo("base64");
    assertThat(b.get("payload").asText()).isEqualTo("AQID");
    JsonNode t = JSON.readTree(messages.get(1));
    assertThat(t.get("content_type").asText()).isEqualTo("text/plain");
    assertThat(t.has("payload_encoding")).isFalse();
    assertThat(t.get("payload").asText()).isEqualTo("line1\nline2");
  }

  @Test
  void usesTheConfiguredPrefix() throws SQLException {
    Outbox custom =
        Outbox.builder().strategy(OutboxStrategy.WAL_MESSAGE).walPrefix("billing.events").build();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      custom.publish(c, OutboxEvent.of("invoice", "9", "InvoiceIssued", null));
      c.commit();
    }
    List<String> lines = Decoding.changes(ds, SLOT);
    assertThat(lines)
        .anyMatch(l -> l.startsWith("message: transactional: 1 prefix: billing.events"));
    assertThat(lines).noneMatch(l -> l.contains("prefix: unpoll.outbox"));
  }

  @Test
  void refusesAnAutoCommitConnectionAndEmitsNothing() throws SQLException {
    try (Connection c = ds.getConnection()) {
      assertThatThrownBy(() -> OUTBOX.publish(c, OutboxEvent.of("order", "1", "T", null)))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("auto-commit");
    }
    assertThat(Decoding.messages(ds, SLOT, Outbox.DEFAULT_WAL_PREFIX)).isEmpty();
  }

  @Test
  void schemaCheckAcceptsALogicalWalLevel() throws SQLException {
    try (Connection c = ds.getConnection()) {
      assertThat(OUTBOX.checkSchema(c)).isEmpty();
    }
  }

  private static long countOutboxLikeTables() throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%outbox%'")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
