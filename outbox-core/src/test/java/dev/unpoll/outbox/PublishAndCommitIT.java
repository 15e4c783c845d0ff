package dev.unpoll.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@link Outbox#publishAndCommit}: the events' statement and the COMMIT in one round trip, for all
 * three strategies, through the HikariCP pool the testkit hands out.
 */
@ExtendWith(UnpollStackExtension.class)
class PublishAndCommitIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SLOT = "publish_and_commit_it";
  private static final Outbox TABLE = Outbox.builder().build();
  private static final Outbox TABLE_DELETE = Outbox.builder().deleteAfterInsert(true).build();
  private static final Outbox WAL = Outbox.builder().strategy(OutboxStrategy.WAL_MESSAGE).build();
  private static final AtomicLong IDS = new AtomicLong();
  private static TestPostgres db;
  private static DataSource ds;

  @BeforeAll
  static void database(TestPostgres server) throws SQLException {
    db = server.createDatabase("outbox_publish_commit_it");
    ds = db.dataSource();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(TABLE.ddl());
      s.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
      // A deferred check fails only at COMMIT: the way to make the commit itself fail.
      s.execute(
          "CREATE TABLE audit (order_id bigint REFERENCES orders (id) DEFERRABLE INITIALLY"
              + " DEFERRED)");
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
  void tableEventAndBusinessRowAreCommittedBeforeConnectionCommitIsCalled() throws Exception {
    long id = IDS.incrementAndGet();
    OutboxEvent event = orderCreated(id);
    List<Long> visibleWhenCommitCalled = new ArrayList<>();
    try (Connection real = ds.getConnection()) {
      Connection c = onCommit(real, () -> visibleWhenCommitCalled.add(orders(id) + events(event)));
      c.setAutoCommit(false);
      TableStrategyIT.insertOrder(c, id);
      TABLE.publishAndCommit(c, event);
    }
    // The COMMIT travelled with the INSERT: both rows were already visible to another session
    // when the writer told the pool about the commit.
    assertThat(visibleWhenCommitCalled).containsExactly(2L);
    assertThat(orders(id)).isOne();
    assertThat(events(event)).isOne();
  }

  @Test
  void theConnectionStartsAFreshTransactionAfterwards() throws Exception {
    long committed = IDS.incrementAndGet();
    long rolledBack = IDS.incrementAndGet();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      TableStrategyIT.insertOrder(c, committed);
      TABLE.publishAndCommit(c, OutboxEvent.of("order", "x", "OrderCreated", null));
      // If the driver had lost track of the ended transaction, this insert would autocommit.
      TableStrategyIT.insertOrder(c, rolledBack);
      c.rollback();
    }
    assertThat(orders(committed)).isOne();
    assertThat(orders(rolledBack)).isZero();
  }

  @Test
  void deleteAfterInsertLeavesNoRowButTheInsertIsInTheWal() throws Exception {
    long id = IDS.incrementAndGet();
    OutboxEvent event = orderCreated(id);
    insertOrderAndPublishAndCommit(TABLE_DELETE, id, event);
    assertThat(orders(id)).isOne();
    assertThat(events(event)).isZero();
    List<String> changes = Decoding.changes(ds, SLOT);
    assertThat(changes)
        .anySatisfy(
            l ->
                assertThat(l).startsWith("table public.unpoll_outbox: INSERT:").contains(id(event)))
        .anySatisfy(l -> assertThat(l).startsWith("table public.unpoll_outbox: DELETE:"));
  }

  @Test
  void walMessageIsDecodedOnCommit() throws Exception {
    long id = IDS.incrementAndGet();
    OutboxEvent event = orderCreated(id);
    insertOrderAndPublishAndCommit(WAL, id, event);
    assertThat(orders(id)).isOne();
    List<String> messages = Decoding.messages(ds, SLOT, Outbox.DEFAULT_WAL_PREFIX);
    assertThat(messages).hasSize(1);
    assertThat(JSON.readTree(messages.get(0)).get("id").asText()).isEqualTo(id(event));
  }

  @Test
  void aBatchOfAThousandIsCommittedInOrderForEachStrategy() throws Exception {
    for (Outbox outbox : List.of(TABLE, TABLE_DELETE, WAL)) {
      List<OutboxEvent> events = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        events.add(OutboxEvent.of("order", "batch-" + i, "OrderCreated", Map.of("n", i)));
      }
      long id = IDS.incrementAndGet();
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        TableStrategyIT.insertOrder(c, id);
        outbox.publishAllAndCommit(c, events);
      }
      assertThat(orders(id)).as(outbox.toString()).isOne();
      List<String> decodedIds = new ArrayList<>();
      if (outbox.strategy() == OutboxStrategy.WAL_MESSAGE) {
        for (String m : Decoding.messages(ds, SLOT, Outbox.DEFAULT_WAL_PREFIX)) {
          decodedIds.add(JSON.readTree(m).get("id").asText());
        }
      } else {
        for (String line : Decoding.changes(ds, SLOT)) {
          if (line.startsWith("table public.unpoll_outbox: INSERT:")) {
            int at = line.indexOf("id[uuid]:'") + "id[uuid]:'".length();
            decodedIds.add(line.substring(at, at + 36));
          }
        }
      }
      assertThat(decodedIds)
          .as(outbox.toString())
          .containsExactlyElementsOf(events.stream().map(PublishAndCommitIT::id).toList());
      assertThat(events.stream().mapToLong(PublishAndCommitIT::events).sum())
          .as(outbox.toString())
          .isEqualTo(outbox == TABLE ? 1000 : 0);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "preferQueryMode=simple",
        "preferQueryMode=extendedCacheEverything",
        "autosave=always",
        "prepareThreshold=0",
        "stringtype=unspecified"
      })
  void worksInEveryPgjdbcQueryModeAndKeepsAHostilePayloadIntact(String option) throws Exception {
    String hostile = "it's \"quoted\" \\ ;\nCOMMIT; DROP TABLE orders; --";
    String url = db.jdbcUrl() + (db.jdbcUrl().contains("?") ? "&" : "?") + option;
    List<Long> ids = new ArrayList<>();
    List<OutboxEvent> tableEvents = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url, db.user(), db.password())) {
      c.setAutoCommit(false);
      // 7 rounds: past pgjdbc's prepareThreshold of 5, so server-prepared statements are used too
      for (int round = 0; round < 7; round++) {
        for (Outbox outbox : List.of(TABLE, TABLE_DELETE, WAL)) {
          long id = IDS.incrementAndGet();
          ids.add(id);
          TableStrategyIT.insertOrder(c, id);
          OutboxEvent event =
              OutboxEvent.of("order", Long.toString(id), "OrderCreated", Map.of("note", hostile));
          outbox.publishAllAndCommit(
              c, List.of(event, OutboxEvent.of("order", Long.toString(id), "Second", null)));
          if (outbox == TABLE) {
            tableEvents.add(event);
          }
        }
      }
      c.rollback(); // nothing pending: every round committed
    }
    for (long id : ids) {
      assertThat(orders(id)).as(option + " order " + id).isOne();
    }
    for (OutboxEvent e : tableEvents) {
      assertThat(
              count(
                  "SELECT count(*) FROM unpoll_outbox WHERE id = '"
                      + e.id()
                      + "' AND payload->>'note' = '"
                      + hostile.replace("'", "''")
                      + "'"))
          .as(option)
          .isOne();
    }
  }

  @Test
  void aFailedWriteRollsBackTheBusinessWriteAndSaysSo() throws Exception {
    OutboxEvent first = OutboxEvent.of("order", "dup", "OrderCreated", null);
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      TABLE.publishAndCommit(c, first);
    }
    long id = IDS.incrementAndGet();
    OutboxEvent sameId =
        OutboxEvent.builder().id(first.id()).aggregate("order", "dup").type("Again").build();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      TableStrategyIT.insertOrder(c, id);
      assertThatThrownBy(() -> TABLE.publishAndCommit(c, sameId))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("the transaction was rolled back, nothing was committed")
          .hasMessageContaining("23505");
      // rolled back, and usable for the next transaction
      TableStrategyIT.insertOrder(c, id);
      c.commit();
    }
    assertThat(orders(id)).isOne();
    assertThat(events(first)).isOne();
  }

  @Test
  void aFailedCommitRollsBackEverything() throws Exception {
    long id = IDS.incrementAndGet();
    OutboxEvent event = OutboxEvent.of("order", Long.toString(id), "OrderCreated", null);
    for (Outbox outbox : List.of(TABLE, WAL)) {
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        TableStrategyIT.insertOrder(c, id);
        try (Statement s = c.createStatement()) {
          s.execute("INSERT INTO audit VALUES (-1)"); // violates the deferred FK at COMMIT
        }
        assertThatThrownBy(() -> outbox.publishAndCommit(c, event))
            .as(outbox.toString())
            .isInstanceOf(OutboxException.class)
            .hasMessageContaining("the transaction was rolled back")
            .hasMessageContaining("23503");
      }
      assertThat(orders(id)).as(outbox.toString()).isZero();
      assertThat(events(event)).as(outbox.toString()).isZero();
      assertThat(Decoding.messages(ds, SLOT, Outbox.DEFAULT_WAL_PREFIX)).isEmpty();
    }
  }

  @Test
  void aPayloadThatCannotBeSerializedRollsBackBeforeAnythingIsSent() throws Exception {
    long id = IDS.incrementAndGet();
    OutboxEvent bad = OutboxEvent.of("order", "1", "Unserializable", new Object());
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      TableStrategyIT.insertOrder(c, id);
      assertThatThrownBy(() -> TABLE.publishAndCommit(c, bad))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("Unserializable");
      c.commit(); // nothing left to commit: the business write was rolled back
    }
    assertThat(orders(id)).isZero();
  }

  @Test
  void noEventsStillCommitsTheBusinessWrite() throws Exception {
    long id = IDS.incrementAndGet();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      TableStrategyIT.insertOrder(c, id);
      TABLE.publishAllAndCommit(c, List.of());
    }
    assertThat(orders(id)).isOne();
  }

  @Test
  void autoCommitIsRefusedAndNothingIsWritten() throws Exception {
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    try (Connection c = ds.getConnection()) {
      assertThat(c.getAutoCommit()).isTrue();
      assertThatThrownBy(() -> TABLE.publishAndCommit(c, event))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("auto-commit");
    }
    assertThat(events(event)).isZero();
  }

  @Test
  void aConnectionOfASpringTransactionIsRefusedSoSpringsCommitStaysWhole() throws Exception {
    long id = IDS.incrementAndGet();
    OutboxEvent event = OutboxEvent.of("order", Long.toString(id), "OrderCreated", null);
    TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
    tx.executeWithoutResult(
        status -> {
          Connection c = DataSourceUtils.getConnection(ds);
          try {
            TableStrategyIT.insertOrder(c, id);
          } catch (SQLException e) {
            throw new IllegalStateException(e);
          }
          assertThatThrownBy(() -> TABLE.publishAndCommit(c, event))
              .isInstanceOf(OutboxException.class)
              .hasMessageContaining("Spring-managed transaction")
              .hasMessageContaining("SpringOutbox");
          status.setRollbackOnly();
        });
    assertThat(orders(id)).isZero();
    assertThat(events(event)).isZero();
  }

  @Test
  void aSpringConnectionThroughTransactionAwareDataSourceProxyIsRefusedToo() throws Exception {
    // what jOOQ and MyBatis on Spring are given: a proxy that unwraps to itself
    long id = IDS.incrementAndGet();
    OutboxEvent event = OutboxEvent.of("order", Long.toString(id), "OrderCreated", null);
    DataSource proxy = new TransactionAwareDataSourceProxy(ds);
    TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
    tx.executeWithoutResult(
        status -> {
          try (Connection c = proxy.getConnection()) {
            TableStrategyIT.insertOrder(c, id);
            assertThatThrownBy(() -> TABLE.publishAndCommit(c, event))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("Spring-managed transaction");
          } catch (SQLException e) {
            throw new IllegalStateException(e);
          }
          status.setRollbackOnly();
        });
    assertThat(orders(id)).isZero();
    assertThat(events(event)).isZero();
  }

  private static OutboxEvent orderCreated(long id) {
    return OutboxEvent.of("order", Long.toString(id), "OrderCreated", Map.of("id", id));
  }

  private static void insertOrderAndPublishAndCommit(Outbox outbox, long id, OutboxEvent event)
      throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      TableStrategyIT.insertOrder(c, id);
      outbox.publishAndCommit(c, event);
    }
  }

  /** A connection that runs {@code beforeCommit} when {@code commit()} is called on it. */
  private static Connection onCommit(Connection real, Runnable beforeCommit) {
    return (Connection)
        Proxy.newProxyInstance(
            PublishAndCommitIT.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              if (method.getName().equals("commit")) {
                beforeCommit.run();
              }
              try {
                return method.invoke(real, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  private static String id(OutboxEvent e) {
    return e.id().toString();
  }

  private static long orders(long id) {
    return count("SELECT count(*) FROM orders WHERE id = " + id);
  }

  private static long events(OutboxEvent e) {
    return count("SELECT count(*) FROM unpoll_outbox WHERE id = '" + UUID.fromString(id(e)) + "'");
  }

  private static long count(String sql) {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
