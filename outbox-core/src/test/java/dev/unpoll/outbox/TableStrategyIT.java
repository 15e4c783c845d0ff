package dev.unpoll.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class TableStrategyIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SLOT = "table_strategy_it";
  private static TestPostgres db;
  private static DataSource ds;

  record OrderCreated(long orderId, String customer) {}

  @BeforeAll
  static void database(TestPostgres server) throws SQLException {
    db = server.createDatabase("outbox_table_it");
    ds = db.dataSource();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(Outbox.builder().build().ddl());
      s.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
    }
    Decoding.createSlot(ds, SLOT);
  }

  @AfterAll
  static void dropSlot() throws SQLException {
    Decoding.dropSlot(ds, SLOT);
  }

  @BeforeEach
  void empty() throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE unpoll_outbox, orders");
    }
    Decoding.changes(ds, SLOT);
  }

  @Test
  void committedEventIsARowWithTheContractColumns() throws Exception {
    Instant now = Instant.parse("2026-11-21T19:56:52.123456Z");
    Outbox outbox = Outbox.builder().clock(Clock.fixed(now, ZoneOffset.UTC)).build();
    OutboxEvent event =
        OutboxEvent.builder()
            .aggregate("order", "42")
            .type("OrderCreated")
            .payload(new OrderCreated(42, "ada"))
            .header("trace", "abc")
            .build();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      insertOrder(c, 42);
      outbox.publish(c, event);
      c.commit();
    }
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT id, aggregatetype, aggregateid, type, payload::text, headers::text,"
                    + " created_at FROM unpoll_outbox")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getObject(1)).isEqualTo(event.id());
      assertThat(rs.getString(2)).isEqualTo("order");
      assertThat(rs.getString(3)).isEqualTo("42");
      assertThat(rs.getString(4)).isEqualTo("OrderCreated");
      assertThat(JSON.readTree(rs.getString(5)))
          .isEqualTo(JSON.readTree("{\"orderId\":42,\"customer\":\"ada\"}"));
      assertThat(JSON.readTree(rs.getString(6))).isEqualTo(JSON.readTree("{\"trace\":\"abc\"}"));
      assertThat(rs.getObject(7, OffsetDateTime.class).toInstant()).isEqualTo(now);
      assertThat(rs.next()).isFalse();
    }
  }

  @Test
  void rolledBackEventLeavesNothing() throws SQLException {
    Outbox outbox = Outbox.builder().build();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      insertOrder(c, 1);
      outbox.publish(c, OutboxEvent.of("order", "1", "OrderCreated", Map.of("a", 1)));
      c.rollback();
    }
    assertThat(count("unpoll_outbox")).isZero();
    assertThat(count("orders")).isZero();
    assertThat(Decoding.changes(ds, SLOT)).noneMatch(l -> l.contains("unpoll_outbox"));
  }

  @Test
  void refusesAnAutoCommitConnection() throws SQLException {
    Outbox outbox = Outbox.builder().build();
    try (Connection c = ds.getConnection()) {
      assertThat(c.getAutoCommit()).isTrue();
      assertThatThrownBy(
              () -> outbox.publish(c, OutboxEvent.of("order", "1", "OrderCreated", null)))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("auto-commit mode")
          .hasMessageContaining("setAutoCommit(false)");
    }
    assertThat(count("unpoll_outbox")).isZero();
  }

  @Test
  void deleteAfterInsertLeavesTheTableEmptyButTheInsertInTheWal() throws SQLException {
    Outbox outbox = Outbox.builder().deleteAfterInsert(true).build();
    OutboxEvent one = OutboxEvent.of("order", "7", "OrderCreated", Map.of("n", 1));
    List<OutboxEvent> batch =
        List.of(
            OutboxEvent.of("order", "8", "OrderCreated", Map.of("n", 2)),
            OutboxEvent.of("order", "9", "OrderCreated", Map.of("n", 3)));
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      outbox.publish(c, one);
      outbox.publishAll(c, batch);
      c.commit();
    }
    assertThat(count("unpoll_outbox")).isZero();
    List<String> wal = Decoding.changes(ds, SLOT);
    assertThat(wal.stream().filter(l -> l.startsWith("table public.unpoll_outbox: INSERT:")))
        .hasSize(3)
        .anyMatch(l -> l.contains(one.id().toString()))
        .anyMatch(l -> l.contains(batch.get(1).id().toString()));
    assertThat(wal.stream().filter(l -> l.startsWith("table public.unpoll_outbox: DELETE:")))
        .hasSize(3);
  }

  @Test
  void aBatchOfAThousandIsWrittenInOrder() throws SQLException {
    Outbox outbox = Outbox.builder().build();
    List<OutboxEvent> events = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      events.add(OutboxEvent.of("order", Integer.toString(i), "OrderCreated", Map.of("i", i)));
    }
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      outbox.publishAll(c, events);
      c.commit();
    }
    List<String> aggregateIds = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT aggregateid FROM unpoll_outbox ORDER BY id")) {
      while (rs.next()) {
        aggregateIds.add(rs.getString(1));
      }
    }
    List<String> expected = new ArrayList<>();
    events.forEach(e -> expected.add(e.aggregateId()));
    // UUIDv7 ids order like the batch, and every event is there exactly once
    assertThat(aggregateIds).containsExactlyElementsOf(expected);
    List<String> inserts =
        Decoding.changes(ds, SLOT).stream()
            .filter(l -> l.startsWith("table public.unpoll_outbox: INSERT:"))
            .toList();
    assertThat(inserts).hasSize(1000);
    assertThat(inserts.get(0)).contains(events.get(0).id().toString());
    assertThat(inserts.get(999)).contains(events.get(999).id().toString());
  }

  @Test
  void eightConcurrentWritersThroughTheHikariPoolLoseNothing() throws Exception {
    assertThat(ds).isInstanceOf(HikariDataSource.class);
    Outbox outbox = Outbox.builder().build();
    int writers = 8;
    int perWriter = 100;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Callable<Void>> tasks = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        tasks.add(
            () -> {
              for (int i = 0; i < perWriter; i++) {
                long orderId = writer * 1_000_000L + i;
                try (Connection c = ds.getConnection()) {
                  c.setAutoCommit(false);
                  insertOrder(c, orderId);
                  outbox.publish(
                      c, OutboxEvent.of("order", Long.toString(orderId), "OrderCreated", null));
                  if (i % 10 == 9) {
                    c.rollback(); // every tenth business transaction fails: its event must vanish
                  } else {
                    c.commit();
                  }
                }
              }
              return null;
            });
      }
      for (Future<Void> f : pool.invokeAll(tasks)) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    assertThat(count("orders")).isEqualTo(writers * perWriter * 9 / 10);
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM orders o FULL JOIN unpoll_outbox e"
                    + " ON e.aggregateid = o.id::text WHERE o.id IS NULL OR e.id IS NULL")) {
      rs.next();
      assertThat(rs.getLong(1)).as("orders without event or events without order").isZero();
    }
    assertThat(count("unpoll_outbox")).isEqualTo(writers * perWriter * 9 / 10);
  }

  @Test
  void storesTextAsAJsonStringAndBytesAsBase64WithTheirContentType() throws Exception {
    Outbox outbox = Outbox.builder().build();
    OutboxEvent text =
        OutboxEvent.builder()
            .aggregate("note", "1")
            .type("NoteAdded")
            .payload("hello \"world\"", "text/plain; charset=utf-8")
            .build();
    OutboxEvent bytes =
        OutboxEvent.builder()
            .aggregate("doc", "2")
            .type("DocStored")
            .payload(new byte[] {0, 1, (byte) 0xFF}, "application/octet-stream")
            .build();
    OutboxEvent rawJson =
        OutboxEvent.builder()
            .aggregate("order", "3")
            .type("OrderCreated")
            .payload("{\"orderId\": 3}", "application/json")
            .build();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      outbox.publishAll(c, List.of(text, bytes, rawJson));
      c.commit();
    }
    assertThat(row(text.id(), "payload")).isEqualTo(JSON.readTree("\"hello \\\"world\\\"\""));
    assertThat(row(text.id(), "headers"))
        .isEqualTo(JSON.readTree("{\"content-type\":\"text/plain; charset=utf-8\"}"));
    assertThat(row(bytes.id(), "payload").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(new byte[] {0, 1, (byte) 0xFF}));
    assertThat(row(bytes.id(), "headers"))
        .isEqualTo(
            JSON.readTree(
                "{\"content-type\":\"application/octet-stream\","
                    + "\"unpoll_payload_encoding\":\"base64\"}"));
    assertThat(row(rawJson.id(), "payload")).isEqualTo(JSON.readTree("{\"orderId\":3}"));
    assertThat(row(rawJson.id(), "headers")).isEqualTo(JSON.readTree("{}"));
  }

  @Test
  void namesTheEventTypeWhenThePayloadCannotBeSerialized() throws SQLException {
    Outbox outbox = Outbox.builder().build();
    Object unserializable = new Object(); // Jackson: no serializer for a bean without properties
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      assertThatThrownBy(
              () ->
                  outbox.publishAll(
                      c,
                      List.of(
                          OutboxEvent.of("order", "1", "OrderCreated", Map.of()),
                          OutboxEvent.of("order", "1", "OrderShipped", unserializable))))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("payload of event type OrderShipped")
          .hasMessageContaining("java.lang.Object");
      c.commit();
    }
    assertThat(count("unpoll_outbox")).as("nothing of the batch is written").isZero();
  }

  @Test
  void theCallerIdIsStoredAndADuplicateIdFailsTheWrite() throws SQLException {
    Outbox outbox = Outbox.builder().build();
    UUID key = UUID.fromString("11111111-2222-4333-8444-555555555555");
    OutboxEvent event =
        OutboxEvent.builder().id(key).aggregate("order", "1").type("OrderCreated").build();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      outbox.publish(c, event);
      assertThatThrownBy(() -> outbox.publish(c, event))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining(key.toString())
          .hasMessageContaining("public.unpoll_outbox")
          .hasMessageContaining("23505");
      c.rollback();
    }
  }

  private static JsonNode row(UUID id, String column) throws Exception {
    try (Connection c = ds.getConnection();
        var ps =
            c.prepareStatement("SELECT " + column + "::text FROM unpoll_outbox WHERE id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return JSON.readTree(rs.getString(1));
      }
    }
  }

  static void insertOrder(Connection c, long id) throws SQLException {
    try (var ps = c.prepareStatement("INSERT INTO orders (id, customer) VALUES (?, 'ada')")) {
      ps.setLong(1, id);
      ps.executeUpdate();
    }
  }

  private static long count(String table) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
