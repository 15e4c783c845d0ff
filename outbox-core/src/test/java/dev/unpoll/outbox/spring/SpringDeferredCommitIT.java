package dev.unpoll.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxException;
import dev.unpoll.outbox.RoundTrips;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.DefaultTransactionStatus;
import org.springframework.transaction.support.ResourceHolderSupport;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@link SpringOutbox} with deferToCommit: the events travel with Spring's COMMIT. "Same
 * transaction" is proved by the rows' {@code xmin} (the id of the transaction that wrote them),
 * round trips are counted by {@link RoundTrips}.
 */
@ExtendWith(UnpollStackExtension.class)
class SpringDeferredCommitIT {
  private static final Outbox OUTBOX = Outbox.builder().build();
  private static TestPostgres db;
  private static DataSource ds;
  private static JdbcTemplate jdbc;
  private static DataSourceTransactionManager tm;
  private static TransactionTemplate tx;
  private static SpringOutbox deferred;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("outbox_spring_deferred_it");
    ds = db.dataSource();
    jdbc = new JdbcTemplate(ds);
    jdbc.execute(OUTBOX.ddl());
    jdbc.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
    // A deferred check fails only at COMMIT: the way to make the commit itself fail.
    jdbc.execute(
        "CREATE TABLE audit (order_id bigint REFERENCES orders (id) DEFERRABLE INITIALLY"
            + " DEFERRED)");
    tm = new DataSourceTransactionManager(ds);
    tx = new TransactionTemplate(tm);
    deferred = SpringOutbox.builder().outbox(OUTBOX).dataSource(ds).deferToCommit(true).build();
  }

  @BeforeEach
  void empty() {
    jdbc.execute("TRUNCATE unpoll_outbox, orders, audit");
  }

  // 1. committed with the business rows; a rollback leaves neither

  @Test
  void eventsAreHeldUntilTheCommitAndCommitInTheBusinessTransaction() {
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", Map.of("id", 1));
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
          deferred.publish(event);
          // held, not written: even the transaction itself does not see the row yet
          assertThat(eventsSeenBy(jdbc, event)).isZero();
        });
    assertThat(orderXmin(1)).isNotNull().isEqualTo(eventXmin(event));
  }

  @Test
  void aRollbackLeavesNeitherTheBusinessRowsNorTheEvents() {
    OutboxEvent thrown = OutboxEvent.of("order", "1", "OrderCreated", null);
    OutboxEvent marked = OutboxEvent.of("order", "2", "OrderCreated", null);
    assertThatThrownBy(
            () ->
                tx.executeWithoutResult(
                    status -> {
                      jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
                      deferred.publish(thrown);
                      throw new IllegalStateException("payment declined");
                    }))
        .hasMessage("payment declined");
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (2, 'bob')");
          deferred.publish(marked);
          status.setRollbackOnly();
        });
    assertThat(count("SELECT count(*) FROM orders")).isZero();
    assertThat(count("SELECT count(*) FROM unpoll_outbox")).isZero();
    // nothing held over into the next transaction on the same thread
    tx.executeWithoutResult(status -> jdbc.update("INSERT INTO orders VALUES (3, 'cy')"));
    assertThat(count("SELECT count(*) FROM unpoll_outbox")).isZero();
  }

  // 2. one round trip fewer, counted by pgjdbc

  @Test
  void theEventsCostTheTransactionNoRoundTripOfTheirOwn() {
    // one physical connection, no pool validation: only the transaction's own round trips
    SingleConnectionDataSource single =
        new SingleConnectionDataSource(db.jdbcUrl(), db.user(), db.password(), true);
    try {
      TransactionTemplate singleTx =
          new TransactionTemplate(new DataSourceTransactionManager(single));
      JdbcTemplate singleJdbc = new JdbcTemplate(single);
      SpringOutbox atOnce = SpringOutbox.of(OUTBOX, single);
      SpringOutbox atCommit =
          SpringOutbox.builder().outbox(OUTBOX).dataSource(single).deferToCommit(true).build();
      AtomicInteger ids = new AtomicInteger(100);
      Runnable[] arms = new Runnable[2];
      for (int i = 0; i < 2; i++) {
        SpringOutbox outbox = i == 0 ? atOnce : atCommit;
        arms[i] =
            () ->
                singleTx.executeWithoutResult(
                    status -> {
                      int id = ids.incrementAndGet();
                      singleJdbc.update("INSERT INTO orders VALUES (" + id + ", 'ada')");
                      outbox.publish(OutboxEvent.of("order", "" + id, "OrderCreated", null));
                    });
      }
      for (int warm = 0; warm < 3; warm++) { // statement and type caches filled for both arms
        arms[0].run();
        arms[1].run();
      }
      RoundTrips immediate = RoundTrips.of(arms[0]);
      RoundTrips atCommitTrips = RoundTrips.of(arms[1]);
      // insert, publish, commit versus insert, publish-and-commit
      assertThat(immediate.count()).as("%s", immediate.protocol()).isEqualTo(3);
      assertThat(atCommitTrips.count()).as("%s", atCommitTrips.protocol()).isEqualTo(2);
      assertThat(count("SELECT count(*) FROM orders")).isEqualTo(8);
      assertThat(count("SELECT count(*) FROM unpoll_outbox")).isEqualTo(8);
      assertThat(count("SELECT count(DISTINCT o.xmin::text) FROM orders o")).isEqualTo(8);
      assertThat(
              count(
                  "SELECT count(*) FROM orders o JOIN unpoll_outbox e"
                      + " ON e.aggregateid = o.id::text AND e.xmin::text = o.xmin::text"))
          .isEqualTo(8);
    } finally {
      single.destroy();
    }
  }

  // 3. REQUIRES_NEW

  @Test
  void requiresNewCommitsItsEventsWithItselfAndKeepsThemWhenTheOuterRollsBack() {
    TransactionTemplate requiresNew = new TransactionTemplate(tm);
    requiresNew.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
    OutboxEvent outer = OutboxEvent.of("order", "1", "Outer", null);
    OutboxEvent inner = OutboxEvent.of("order", "2", "Inner", null);
    assertThatThrownBy(
            () ->
                tx.executeWithoutResult(
                    status -> {
                      jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
                      deferred.publish(outer);
                      requiresNew.executeWithoutResult(
                          s -> {
                            jdbc.update("INSERT INTO orders VALUES (2, 'bob')");
                            deferred.publish(inner);
                          });
                      // committed with the inner transaction, before the outer one ends
                      assertThat(eventXmin(inner)).isNotNull().isEqualTo(orderXmin(2));
                      assertThat(eventXmin(outer)).isNull();
                      throw new IllegalStateException("outer fails");
                    }))
        .hasMessage("outer fails");
    assertThat(eventXmin(inner)).isNotNull().isEqualTo(orderXmin(2));
    assertThat(orderXmin(1)).isNull();
    assertThat(eventXmin(outer)).isNull();
  }

  @Test
  void requiresNewAndTheOuterTransactionEachCommitTheirOwnEvents() {
    TransactionTemplate requiresNew = new TransactionTemplate(tm);
    requiresNew.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
    OutboxEvent outer = OutboxEvent.of("order", "1", "Outer", null);
    OutboxEvent inner = OutboxEvent.of("order", "2", "Inner", null);
    OutboxEvent afterInner = OutboxEvent.of("order", "1", "OuterAgain", null);
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
          deferred.publish(outer);
          requiresNew.executeWithoutResult(
              s -> {
                jdbc.update("INSERT INTO orders VALUES (2, 'bob')");
                deferred.publish(inner);
              });
          deferred.publish(afterInner);
        });
    assertThat(eventXmin(outer))
        .isNotNull()
        .isEqualTo(orderXmin(1))
        .isEqualTo(eventXmin(afterInner));
    assertThat(eventXmin(inner)).isNotNull().isEqualTo(orderXmin(2)).isNotEqualTo(orderXmin(1));
  }

  // 4. NESTED (savepoints)

  @Test
  void eventsPublishedInARolledBackSavepointAreNotWritten() {
    TransactionTemplate nested = new TransactionTemplate(tm);
    nested.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
    OutboxEvent kept = OutboxEvent.of("order", "1", "Kept", null);
    OutboxEvent inReleased = OutboxEvent.of("order", "1", "InReleasedSavepoint", null);
    OutboxEvent inRolledBack = OutboxEvent.of("order", "2", "InRolledBackSavepoint", null);
    OutboxEvent inInnerRolledBack = OutboxEvent.of("order", "1", "InInnerRolledBack", null);
    OutboxEvent afterwards = OutboxEvent.of("order", "1", "Afterwards", null);
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
          deferred.publish(kept);
          nested.executeWithoutResult(
              s -> {
                deferred.publish(inReleased);
                nested.executeWithoutResult(
                    s2 -> {
                      deferred.publish(inInnerRolledBack);
                      s2.setRollbackOnly();
                    });
              });
          nested.executeWithoutResult(
              s -> {
                jdbc.update("INSERT INTO orders VALUES (2, 'bob')");
                deferred.publish(inRolledBack);
                s.setRollbackOnly();
              });
          deferred.publish(afterwards);
        });
    assertThat(orderXmin(2)).isNull();
    assertThat(eventXmin(inRolledBack)).isNull();
    assertThat(eventXmin(inInnerRolledBack)).isNull();
    assertThat(eventXmin(kept))
        .isNotNull()
        .isEqualTo(orderXmin(1))
        .isEqualTo(eventXmin(inReleased))
        .isEqualTo(eventXmin(afterwards));
  }

  @Test
  void aSavepointTakenBeforeTheFirstEventIsHonouredToo() {
    TransactionTemplate nested = new TransactionTemplate(tm);
    nested.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
    OutboxEvent rolledBack = OutboxEvent.of("order", "1", "RolledBack", null);
    OutboxEvent programmaticRolledBack = OutboxEvent.of("order", "1", "Programmatic", null);
    OutboxEvent kept = OutboxEvent.of("order", "1", "Kept", null);
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
          // the first deferred event of the transaction is published inside the savepoint
          nested.executeWithoutResult(
              s -> {
                deferred.publish(rolledBack);
                s.setRollbackOnly();
              });
          Object savepoint = status.createSavepoint();
          deferred.publish(programmaticRolledBack);
          status.rollbackToSavepoint(savepoint);
          // (released, or the commit's writes would carry the open savepoint's subtransaction id)
          status.releaseSavepoint(savepoint);
          deferred.publish(kept);
        });
    assertThat(eventXmin(rolledBack)).isNull();
    assertThat(eventXmin(programmaticRolledBack)).isNull();
    assertThat(eventXmin(kept)).isNotNull().isEqualTo(orderXmin(1));
  }

  // 5. other synchronizations and JdbcTemplate work stay in the transaction

  @Test
  void aSynchronizationRegisteredAfterThePublishStillWritesInTheSameTransaction() {
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
          deferred.publish(event);
          // same (default, lowest) order, registered later: Spring runs it after the outbox's
          TransactionSynchronizationManager.registerSynchronization(
              new TransactionSynchronization() {
                @Override
                public void beforeCommit(boolean readOnly) {
                  jdbc.update("INSERT INTO orders VALUES (2, 'written in beforeCommit')");
                }
              });
          jdbc.update("INSERT INTO orders VALUES (3, 'after the publish')");
        });
    assertThat(eventXmin(event))
        .isNotNull()
        .isEqualTo(orderXmin(1))
        .isEqualTo(orderXmin(2))
        .isEqualTo(orderXmin(3));
  }

  @Test
  void aSynchronizationOrderedBeforeTheOutboxWritesInTheSameTransaction() {
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
          deferred.publish(event);
          TransactionSynchronizationManager.registerSynchronization(
              new TransactionSynchronization() {
                @Override
                public int getOrder() {
                  return 0;
                }

                @Override
                public void beforeCommit(boolean readOnly) {
                  jdbc.update("INSERT INTO orders VALUES (2, 'written in beforeCommit')");
                }
              });
        });
    assertThat(eventXmin(event)).isNotNull().isEqualTo(orderXmin(1)).isEqualTo(orderXmin(2));
  }

  @Test
  void eventsPublishedByOtherSynchronizationsWhileCommittingAreCommittedWithTheTransaction() {
    // the first deferred event of the transaction comes from another synchronization's
    // beforeCommit: Spring would not call an outbox synchronization registered that late
    OutboxEvent late = OutboxEvent.of("order", "1", "FromBeforeCommit", null);
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
          TransactionSynchronizationManager.registerSynchronization(
              new TransactionSynchronization() {
                @Override
                public void beforeCommit(boolean readOnly) {
                  deferred.publish(late);
                }
              });
        });
    assertThat(eventXmin(late)).isNotNull().isEqualTo(orderXmin(1));
    // a synchronization that runs after the outbox's (registered later, same order) publishes
    OutboxEvent held = OutboxEvent.of("order", "2", "Held", null);
    OutboxEvent after = OutboxEvent.of("order", "2", "FromALaterBeforeCommit", null);
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (2, 'bob')");
          deferred.publish(held);
          TransactionSynchronizationManager.registerSynchronization(
              new TransactionSynchronization() {
                @Override
                public void beforeCommit(boolean readOnly) {
                  deferred.publish(after);
                }
              });
        });
    assertThat(eventXmin(held)).isNotNull().isEqualTo(orderXmin(2)).isEqualTo(eventXmin(after));
  }

  @Test
  void publishingAfterTheCommitWasSentIsRefused() {
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    OutboxEvent tooLate = OutboxEvent.of("order", "1", "TooLate", null);
    List<Throwable> refused = new java.util.ArrayList<>();
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
          deferred.publish(event);
          TransactionSynchronizationManager.registerSynchronization(
              new TransactionSynchronization() {
                @Override
                public int getOrder() {
                  return 0; // before the outbox's, which therefore sends the COMMIT
                }

                @Override
                public void afterCommit() {
                  try {
                    deferred.publish(tooLate);
                  } catch (OutboxException e) {
                    refused.add(e);
                  }
                }
              });
        });
    assertThat(refused)
        .singleElement()
        .extracting(Throwable::getMessage)
        .asString()
        .contains("cannot join it");
    assertThat(eventXmin(event)).isNotNull().isEqualTo(orderXmin(1));
    assertThat(eventXmin(tooLate)).isNull();
  }

  @Test
  void aManagerThatFlushesAnOrmSessionInItsCommitKeepsTheFlushInTheTransaction() {
    // What JpaTransactionManager does: binds a session holder synchronized with the transaction
    // and flushes pending entity writes inside doCommit, after every synchronization has run.
    DataSourceTransactionManager ormLike =
        new DataSourceTransactionManager(ds) {
          private final Object key = new Object();

          @Override
          protected void doBegin(Object transaction, TransactionDefinition definition) {
            super.doBegin(transaction, definition);
            ResourceHolderSupport session = new ResourceHolderSupport() {};
            session.setSynchronizedWithTransaction(true);
            TransactionSynchronizationManager.bindResource(key, session);
          }

          @Override
          protected void doCommit(DefaultTransactionStatus status) {
            jdbc.update("INSERT INTO orders VALUES (2, 'flushed at commit')");
            super.doCommit(status);
          }

          @Override
          protected void doCleanupAfterCompletion(Object transaction) {
            TransactionSynchronizationManager.unbindResource(key);
            super.doCleanupAfterCompletion(transaction);
          }
        };
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    new TransactionTemplate(ormLike)
        .executeWithoutResult(
            status -> {
              jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
              deferred.publish(event);
            });
    assertThat(eventXmin(event)).isNotNull().isEqualTo(orderXmin(1)).isEqualTo(orderXmin(2));
  }

  // 6. a failed deferred write rolls everything back and reaches the caller

  @Test
  void aWriteTheTableRefusesRollsBackTheTransactionAndThrowsToTheCaller() {
    OutboxEvent first = OutboxEvent.of("order", "1", "OrderCreated", null);
    tx.executeWithoutResult(status -> deferred.publish(first));
    OutboxEvent sameId =
        OutboxEvent.builder().id(first.id()).aggregate("order", "2").type("Again").build();
    assertThatThrownBy(
            () ->
                tx.executeWithoutResult(
                    status -> {
                      jdbc.update("INSERT INTO orders VALUES (2, 'bob')");
                      deferred.publishAll(
                          List.of(OutboxEvent.of("order", "2", "Fine", null), sameId));
                    }))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("2 events")
        .hasMessageContaining("the transaction is rolled back and nothing is committed")
        .hasMessageContaining("23505");
    assertThat(orderXmin(2)).isNull();
    assertThat(count("SELECT count(*) FROM unpoll_outbox")).isOne();
    // the pooled connection is clean for the next transaction
    tx.executeWithoutResult(status -> jdbc.update("INSERT INTO orders VALUES (2, 'bob')"));
    assertThat(orderXmin(2)).isNotNull();
  }

  @Test
  void aCommitTheDatabaseRefusesRollsBackTheTransactionAndThrowsToTheCaller() {
    OutboxEvent event = OutboxEvent.of("order", "1", "OrderCreated", null);
    assertThatThrownBy(
            () ->
                tx.executeWithoutResult(
                    status -> {
                      jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
                      jdbc.update("INSERT INTO audit VALUES (-1)"); // fails the deferred FK
                      deferred.publish(event);
                    }))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("the transaction is rolled back and nothing is committed")
        .hasMessageContaining("23503");
    assertThat(orderXmin(1)).isNull();
    assertThat(eventXmin(event)).isNull();
    tx.executeWithoutResult(status -> jdbc.update("INSERT INTO orders VALUES (1, 'ada')"));
    assertThat(orderXmin(1)).isNotNull();
  }

  @Test
  void refusesOutsideATransactionAndAnIncompleteBuilder() {
    assertThatThrownBy(() -> deferred.publish(OutboxEvent.of("order", "1", "T", null)))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("no Spring-managed transaction is active");
    assertThatThrownBy(() -> SpringOutbox.builder().deferToCommit(true).build())
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("outbox: required")
        .hasMessageContaining("dataSource: required");
  }

  private static long eventsSeenBy(JdbcTemplate template, OutboxEvent e) {
    return template.queryForObject(
        "SELECT count(*) FROM unpoll_outbox WHERE id = ?", Long.class, e.id());
  }

  /** The id of the transaction that wrote the order, read on a connection of its own. */
  private static String orderXmin(long id) {
    return xmin("SELECT xmin::text FROM orders WHERE id = ?", id);
  }

  private static String eventXmin(OutboxEvent e) {
    return xmin("SELECT xmin::text FROM unpoll_outbox WHERE id = ?", e.id());
  }

  private static String xmin(String sql, Object key) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long count(String sql) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
