package dev.unpoll.outbox.jooq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxException;
import dev.unpoll.outbox.OutboxStrategy;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class JooqOutboxIT {
  private static final String SLOT = "jooq_outbox_it";
  private static DSLContext dsl;
  private static final JooqOutbox OUTBOX = JooqOutbox.of(Outbox.builder().build());

  @BeforeAll
  static void database(TestPostgres server) {
    dsl = DSL.using(server.createDatabase("outbox_jooq_it").dataSource(), SQLDialect.POSTGRES);
    dsl.execute(Outbox.builder().build().ddl());
    dsl.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
    dsl.fetch("SELECT pg_create_logical_replication_slot(?, 'test_decoding')", SLOT);
  }

  @AfterAll
  static void dropSlot() {
    dsl.fetch("SELECT pg_drop_replication_slot(?)", SLOT);
  }

  @BeforeEach
  void empty() {
    dsl.execute("TRUNCATE unpoll_outbox, orders");
    slotMessages();
  }

  @Test
  void commitsWithTheJooqTransaction() {
    OutboxEvent event = OutboxEvent.of("order", "42", "OrderCreated", Map.of("orderId", 42));
    dsl.transaction(
        cfg -> {
          cfg.dsl().execute("INSERT INTO orders VALUES (42, 'ada')");
          OUTBOX.publish(cfg.dsl(), event);
        });
    assertThat(dsl.fetchCount(DSL.table("orders"))).isOne();
    assertThat(dsl.fetchValue("SELECT id::text FROM unpoll_outbox"))
        .isEqualTo(event.id().toString());
  }

  @Test
  void rollsBackWithTheJooqTransaction() {
    assertThatThrownBy(
            () ->
                dsl.transaction(
                    cfg -> {
                      cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')");
                      OUTBOX.publishAll(
                          cfg.dsl(),
                          List.of(
                              OutboxEvent.of("order", "1", "OrderCreated", null),
                              OutboxEvent.of("order", "1", "OrderPaid", null)));
                      throw new IllegalStateException("payment declined");
                    }))
        .hasMessage("payment declined");
    assertThat(dsl.fetchCount(DSL.table("orders"))).isZero();
    assertThat(dsl.fetchCount(DSL.table("unpoll_outbox"))).isZero();
  }

  @Test
  void refusesADslContextOutsideATransaction() {
    assertThatThrownBy(() -> OUTBOX.publish(dsl, OutboxEvent.of("order", "1", "T", null)))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("not inside a transaction")
        .hasMessageContaining("dsl.transaction(");
    assertThatThrownBy(
            () ->
                dsl.transaction(
                    cfg -> // the outer dsl by mistake: not the transaction's connection
                    OUTBOX.publish(dsl, OutboxEvent.of("order", "1", "T", null))))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("cfg.dsl()");
    assertThat(dsl.fetchCount(DSL.table("unpoll_outbox"))).isZero();
  }

  @Test
  void walMessagesCommitAndRollBackWithTheJooqTransaction() {
    JooqOutbox wal = JooqOutbox.of(Outbox.builder().strategy(OutboxStrategy.WAL_MESSAGE).build());
    OutboxEvent kept = OutboxEvent.of("order", "5", "OrderCreated", null);
    dsl.transaction(cfg -> wal.publish(cfg.dsl(), kept));
    assertThatThrownBy(
            () ->
                dsl.transaction(
                    cfg -> {
                      wal.publish(cfg.dsl(), OutboxEvent.of("order", "6", "Discarded", null));
                      throw new IllegalStateException("abort");
                    }))
        .hasMessage("abort");
    List<String> messages = slotMessages();
    assertThat(messages).hasSize(1);
    assertThat(messages.get(0)).contains(kept.id().toString()).doesNotContain("Discarded");
  }

  private static List<String> slotMessages() {
    return dsl
        .fetch("SELECT data FROM pg_logical_slot_get_changes(?, NULL, NULL)", SLOT)
        .getValues(0, String.class)
        .stream()
        .filter(l -> l.startsWith("message: transactional: 1 prefix: unpoll.outbox,"))
        .toList();
  }
}
