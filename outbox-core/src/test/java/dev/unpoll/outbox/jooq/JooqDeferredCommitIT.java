package dev.unpoll.outbox.jooq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxException;
import dev.unpoll.outbox.RoundTrips;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.TransactionContext;
import org.jooq.TransactionListener;
import org.jooq.impl.DSL;
import org.jooq.impl.DataSourceConnectionProvider;
import org.jooq.impl.DefaultConfiguration;
import org.jooq.impl.DefaultTransactionProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@link JooqOutbox} with deferToCommit: the events travel with the COMMIT of the top-level {@code
 * dsl.transaction(...)}. "Same transaction" is proved by the rows' {@code xmin}, round trips are
 * counted by {@link RoundTrips}.
 */
@ExtendWith(UnpollStackExtension.class)
class JooqDeferredCommitIT {
  private static final Outbox OUTBOX = Outbox.builder().build();
  private static final JooqOutbox DEFERRED =
      JooqOutbox.builder().outbox(OUTBOX).deferToCommit(true).build();
  private static TestPostgres db;
  private static DataSource ds;
  private static DSLContext plain;
  private static DSLContext dsl;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("outbox_jooq_deferred_it");
    ds = db.dataSource();
    plain = DSL.using(ds, SQLDialect.POSTGRES);
    plain.execute(OUTBOX.ddl());
    plain.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
    plain.execute(
        "CREATE TABLE audit (order_id bigint REFERENCES orders (id) DEFERRABLE INITIALLY"
            + " DEFERRED)");
    dsl = DSL.using(plain.configuration().derive(JooqOutbox.transactionListener()));
  }

  @BeforeEach
  void empty() {
    plain.execute("TRUNCATE unpoll_outbox, orders, audit");
  }

  @Test
  void eventsAreHeldUntilTheCommitAndCommitInTheBusinessTransaction() {
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    dsl.transaction(
        cfg -> {
          cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')");
          DEFERRED.publish(cfg.dsl(), event);
          assertThat(cfg.dsl().fetchCount(DSL.table("unpoll_outbox"))).isZero();
        });
    assertThat(orderXmin(1)).isNotNull().isEqualTo(eventXmin(event));
  }

  @Test
  void aRollbackLeavesNeither() {
    assertThatThrownBy(
            () ->
                dsl.transaction(
                    cfg -> {
                      cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')");
                      DEFERRED.publish(cfg.dsl(), OutboxEvent.of("order", "1", "T", null));
                      throw new IllegalStateException("payment declined");
                    }))
        .hasMessage("payment declined");
    dsl.transaction(cfg -> cfg.dsl().execute("INSERT INTO orders VALUES (2, 'bob')"));
    assertThat(plain.fetchCount(DSL.table("orders"))).isOne();
    assertThat(plain.fetchCount(DSL.table("unpoll_outbox"))).isZero();
  }

  @Test
  void theEventsCostTheTransactionNoRoundTripOfTheirOwn() {
    SingleConnectionDataSource single =
        new SingleConnectionDataSource(db.jdbcUrl(), db.user(), db.password(), true);
    try {
      DSLContext one =
          DSL.using(
              new DefaultConfiguration()
                  .set(single)
                  .set(SQLDialect.POSTGRES)
                  .set(JooqOutbox.transactionListener()));
      AtomicInteger ids = new AtomicInteger(100);
      Runnable[] arms = new Runnable[2];
      for (int i = 0; i < 2; i++) {
        JooqOutbox outbox = i == 0 ? JooqOutbox.of(OUTBOX) : DEFERRED;
        arms[i] =
            () ->
                one.transaction(
                    cfg -> {
                      int id = ids.incrementAndGet();
                      cfg.dsl().execute("INSERT INTO orders VALUES (" + id + ", 'ada')");
                      outbox.publish(cfg.dsl(), OutboxEvent.of("order", "" + id, "T", null));
                    });
      }
      for (int warm = 0; warm < 3; warm++) {
        arms[0].run();
        arms[1].run();
      }
      RoundTrips immediate = RoundTrips.of(arms[0]);
      RoundTrips atCommit = RoundTrips.of(arms[1]);
      assertThat(immediate.count()).as("%s", immediate.protocol()).isEqualTo(3);
      assertThat(atCommit.count()).as("%s", atCommit.protocol()).isEqualTo(2);
      assertThat(plain.fetchCount(DSL.table("unpoll_outbox"))).isEqualTo(8);
      assertThat(
              plain.fetchValue(
                  "SELECT count(*) FROM orders o JOIN unpoll_outbox e"
                      + " ON e.aggregateid = o.id::text AND e.xmin::text = o.xmin::text"))
          .isEqualTo(8L);
    } finally {
      single.destroy();
    }
  }

  @Test
  void aNestedTransactionThatRollsBackDropsItsEventsOneThatCommitsKeepsThem() {
    OutboxEvent kept = OutboxEvent.of("order", "1", "Kept", null);
    OutboxEvent nestedCommitted = OutboxEvent.of("order", "1", "NestedCommitted", null);
    OutboxEvent nestedRolledBack = OutboxEvent.of("order", "2", "NestedRolledBack", null);
    OutboxEvent deepRolledBack = OutboxEvent.of("order", "1", "DeepRolledBack", null);
    dsl.transaction(
        cfg -> {
          cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')");
          DEFERRED.publish(cfg.dsl(), kept);
          cfg.dsl()
              .transaction(
                  nested -> {
                    DEFERRED.publish(nested.dsl(), nestedCommitted);
                    assertThatThrownBy(
                            () ->
                                nested
                                    .dsl()
                                    .transaction(
                                        deep -> {
                                          DEFERRED.publish(deep.dsl(), deepRolledBack);
                                          throw new IllegalStateException("deep");
                                        }))
                        .hasMessage("deep");
                  });
          assertThatThrownBy(
                  () ->
                      cfg.dsl()
                          .transaction(
                              nested -> {
                                nested.dsl().execute("INSERT INTO orders VALUES (2, 'bob')");
                                DEFERRED.publish(nested.dsl(), nestedRolledBack);
                                throw new IllegalStateException("nested");
                              }))
              .hasMessage("nested");
        });
    assertThat(orderXmin(2)).isNull();
    assertThat(eventXmin(nestedRolledBack)).isNull();
    assertThat(eventXmin(deepRolledBack)).isNull();
    // (not compared by xmin: jOOQ leaves a rolled-back nested transaction's savepoint open, so
    // what the top level writes afterwards carries that savepoint's subtransaction id)
    assertThat(orderXmin(1)).isNotNull();
    assertThat(eventXmin(kept)).isNotNull();
    assertThat(eventXmin(nestedCommitted)).isNotNull();
  }

  @Test
  void aSeparateTransactionStartedInsideCommitsItsOwnEvents() {
    OutboxEvent outer = OutboxEvent.of("order", "1", "Outer", null);
    OutboxEvent separate = OutboxEvent.of("order", "2", "Separate", null);
    assertThatThrownBy(
            () ->
                dsl.transaction(
                    cfg -> {
                      cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')");
                      DEFERRED.publish(cfg.dsl(), outer);
                      // the root DSLContext: another connection, another top-level transaction
                      dsl.transaction(
                          other -> {
                            other.dsl().execute("INSERT INTO orders VALUES (2, 'bob')");
                            DEFERRED.publish(other.dsl(), separate);
                          });
                      assertThat(eventXmin(separate)).isNotNull().isEqualTo(orderXmin(2));
                      throw new IllegalStateException("outer fails");
                    }))
        .hasMessage("outer fails");
    assertThat(eventXmin(separate)).isNotNull().isEqualTo(orderXmin(2));
    assertThat(orderXmin(1)).isNull();
    assertThat(eventXmin(outer)).isNull();
  }

  @Test
  void aListenerAfterTheOutboxsStillWritesInTheSameTransaction() {
    TransactionListener writesAtCommit =
        new TransactionListener() {
          @Override
          public void commitStart(TransactionContext ctx) {
            ctx.dsl().execute("INSERT INTO orders VALUES (2, 'written in commitStart')");
          }
        };
    // derive(listeners...) replaces the listeners: the outbox's first, the writing one after it
    DSLContext both =
        DSL.using(plain.configuration().derive(JooqOutbox.transactionListener(), writesAtCommit));
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    both.transaction(
        cfg -> {
          cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')");
          DEFERRED.publish(cfg.dsl(), event);
        });
    assertThat(eventXmin(event)).isNotNull().isEqualTo(orderXmin(1)).isEqualTo(orderXmin(2));
  }

  @Test
  void eventsPublishedByOtherListenersWhileCommittingAreCommittedWithTheTransaction() {
    OutboxEvent body = OutboxEvent.of("order", "1", "FromTheBody", null);
    OutboxEvent before = OutboxEvent.of("order", "1", "FromAListenerBefore", null);
    OutboxEvent after = OutboxEvent.of("order", "1", "FromAListenerAfter", null);
    TransactionListener publishesBefore =
        TransactionListener.onCommitStart(ctx -> DEFERRED.publish(ctx.dsl(), before));
    TransactionListener publishesAfter =
        TransactionListener.onCommitStart(ctx -> DEFERRED.publish(ctx.dsl(), after));
    DSLContext three =
        DSL.using(
            plain
                .configuration()
                .derive(publishesBefore, JooqOutbox.transactionListener(), publishesAfter));
    three.transaction(
        cfg -> {
          cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')");
          DEFERRED.publish(cfg.dsl(), body);
        });
    assertThat(eventXmin(body))
        .isNotNull()
        .isEqualTo(orderXmin(1))
        .isEqualTo(eventXmin(before))
        .isEqualTo(eventXmin(after));
  }

  @Test
  void publishingAfterTheCommitWasSentIsRefused() {
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    OutboxEvent tooLate = OutboxEvent.of("order", "1", "TooLate", null);
    DSLContext late =
        DSL.using(
            plain
                .configuration()
                .derive(
                    JooqOutbox.transactionListener(),
                    TransactionListener.onCommitEnd(ctx -> DEFERRED.publish(ctx.dsl(), tooLate))));
    assertThatThrownBy(
            () ->
                late.transaction(
                    cfg -> {
                      cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')");
                      DEFERRED.publish(cfg.dsl(), event);
                    }))
        .isInstanceOf(OutboxException.class);
    assertThat(eventXmin(event)).isNotNull().isEqualTo(orderXmin(1));
    assertThat(eventXmin(tooLate)).isNull();
  }

  @Test
  void aWriteTheTableRefusesRollsBackTheTransactionAndThrowsToTheCaller() {
    OutboxEvent first = OutboxEvent.of("order", "1", "OrderCreated", null);
    dsl.transaction(cfg -> DEFERRED.publish(cfg.dsl(), first));
    OutboxEvent sameId =
        OutboxEvent.builder().id(first.id()).aggregate("order", "2").type("Again").build();
    assertThatThrownBy(
            () ->
                dsl.transaction(
                    cfg -> {
                      cfg.dsl().execute("INSERT INTO orders VALUES (2, 'bob')");
                      DEFERRED.publish(cfg.dsl(), sameId);
                    }))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("the transaction is rolled back and nothing is committed")
        .hasMessageContaining("23505");
    assertThat(orderXmin(2)).isNull();
    assertThat(plain.fetchCount(DSL.table("unpoll_outbox"))).isOne();
  }

  @Test
  void aCommitTheDatabaseRefusesRollsBackTheTransactionAndThrowsToTheCaller() {
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    assertThatThrownBy(
            () ->
                dsl.transaction(
                    cfg -> {
                      cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')");
                      cfg.dsl().execute("INSERT INTO audit VALUES (-1)"); // fails at COMMIT
                      DEFERRED.publish(cfg.dsl(), event);
                    }))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("the transaction is rolled back and nothing is committed")
        .hasMessageContaining("23503");
    assertThat(orderXmin(1)).isNull();
    assertThat(eventXmin(event)).isNull();
    dsl.transaction(cfg -> cfg.dsl().execute("INSERT INTO orders VALUES (1, 'ada')"));
    assertThat(orderXmin(1)).isNotNull();
  }

  @Test
  void refusesWhereItCannotHoldTheEventsSafely() {
    OutboxEvent event = OutboxEvent.of("order", "1", "T", null);
    // no listener: nothing would write the events
    assertThatThrownBy(() -> plain.transaction(cfg -> DEFERRED.publish(cfg.dsl(), event)))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("no JooqOutbox.transactionListener()");
    // a provider that does not roll nested transactions back to a savepoint
    DSLContext flat =
        DSL.using(
            dsl.configuration()
                .derive(
                    new DefaultTransactionProvider(new DataSourceConnectionProvider(ds), false)));
    assertThatThrownBy(() -> flat.transaction(cfg -> DEFERRED.publish(cfg.dsl(), event)))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("needs jOOQ's DefaultTransactionProvider with nested transactions");
    // a transaction jOOQ does not manage
    assertThatThrownBy(
            () -> {
              try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                DSLContext own =
                    DSL.using(
                        new DefaultConfiguration()
                            .set(c)
                            .set(SQLDialect.POSTGRES)
                            .set(JooqOutbox.transactionListener()));
                DEFERRED.publish(own, event);
              }
            })
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("a transaction jOOQ does not manage");
    // a Spring transaction: Spring commits it, not jOOQ
    TransactionTemplate spring = new TransactionTemplate(new DataSourceTransactionManager(ds));
    DSLContext onSpring =
        DSL.using(
            new DefaultConfiguration()
                .set(new org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy(ds))
                .set(SQLDialect.POSTGRES)
                .set(JooqOutbox.transactionListener()));
    assertThatThrownBy(() -> spring.executeWithoutResult(s -> DEFERRED.publish(onSpring, event)))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("SpringOutbox built with deferToCommit(true)");
    assertThat(plain.fetchCount(DSL.table("unpoll_outbox"))).isZero();
    assertThatThrownBy(() -> JooqOutbox.builder().build())
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("outbox: required");
  }

  private static String orderXmin(long id) {
    return plain.fetchValue("SELECT xmin::text FROM orders WHERE id = ?", id) instanceof String s
        ? s
        : null;
  }

  private static String eventXmin(OutboxEvent e) {
    return plain.fetchValue("SELECT xmin::text FROM unpoll_outbox WHERE id = ?::uuid", e.id())
            instanceof String s
        ? s
        : null;
  }
}
