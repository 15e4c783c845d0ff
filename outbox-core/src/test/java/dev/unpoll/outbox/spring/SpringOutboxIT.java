package dev.unpoll.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxException;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

@ExtendWith(UnpollStackExtension.class)
class SpringOutboxIT {
  private static TestPostgres db;
  private static DataSource ds;
  private static JdbcTemplate jdbc;
  private static TransactionTemplate tx;
  private static SpringOutbox outbox;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("outbox_spring_it");
    ds = db.dataSource();
    jdbc = new JdbcTemplate(ds);
    jdbc.execute(Outbox.builder().build().ddl());
    jdbc.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
    tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
    outbox = SpringOutbox.of(Outbox.builder().build(), ds);
  }

  @BeforeEach
  void empty() {
    jdbc.execute("TRUNCATE unpoll_outbox, orders");
  }

  @Test
  void joinsTheTransactionTemplateAndCommitsWithTheBusinessWrite() {
    OutboxEvent event = OutboxEvent.of("order", "42", "OrderCreated", Map.of("orderId", 42));
    tx.executeWithoutResult(
        status -> {
          jdbc.update("INSERT INTO orders VALUES (42, 'ada')");
          outbox.publish(event);
        });
    assertThat(jdbc.queryForObject("SELECT count(*) FROM orders", Long.class)).isOne();
    assertThat(jdbc.queryForList("SELECT id FROM unpoll_outbox", Object.class))
        .containsExactly(event.id());
  }

  @Test
  void rollsBackWithTheBusinessWrite() {
    assertThatThrownBy(
            () ->
                tx.executeWithoutResult(
                    status -> {
                      jdbc.update("INSERT INTO orders VALUES (1, 'ada')");
                      outbox.publishAll(
                          List.of(
                              OutboxEvent.of("order", "1", "OrderCreated", null),
                              OutboxEvent.of("order", "1", "OrderPaid", null)));
                      throw new IllegalStateException("payment declined");
                    }))
        .hasMessage("payment declined");
    tx.executeWithoutResult(
        status -> {
          outbox.publish(OutboxEvent.of("order", "2", "OrderCreated", null));
          status.setRollbackOnly();
        });
    assertThat(jdbc.queryForObject("SELECT count(*) FROM orders", Long.class)).isZero();
    assertThat(jdbc.queryForObject("SELECT count(*) FROM unpoll_outbox", Long.class)).isZero();
  }

  @Test
  void refusesWhenTheSpringTransactionBelongsToAnotherDataSource() {
    DataSource other =
        new DriverManagerDataSource(db.jdbcUrl(), db.user(), db.password()); // same db, new pool
    TransactionTemplate otherTx = new TransactionTemplate(new DataSourceTransactionManager(other));
    assertThatThrownBy(
            () ->
                otherTx.executeWithoutResult(
                    status -> outbox.publish(OutboxEvent.of("order", "1", "OrderCreated", null))))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("not on this DataSource");
    assertThat(jdbc.queryForObject("SELECT count(*) FROM unpoll_outbox", Long.class)).isZero();
  }

  @Test
  void refusesWithoutASpringTransaction() {
    assertThatThrownBy(() -> outbox.publish(OutboxEvent.of("order", "1", "OrderCreated", null)))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("no Spring-managed transaction is active")
        .hasMessageContaining("@Transactional");
    TransactionTemplate supports = new TransactionTemplate(tx.getTransactionManager());
    supports.setPropagationBehavior(TransactionDefinition.PROPAGATION_SUPPORTS);
    assertThatThrownBy(
            () ->
                supports.executeWithoutResult(
                    status -> outbox.publish(OutboxEvent.of("order", "1", "OrderCreated", null))))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("no Spring-managed transaction is active");
    assertThat(jdbc.queryForObject("SELECT count(*) FROM unpoll_outbox", Long.class)).isZero();
  }
}
