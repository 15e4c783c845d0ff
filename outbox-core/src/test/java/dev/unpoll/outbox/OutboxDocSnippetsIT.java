package dev.unpoll.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.outbox.jooq.JooqOutbox;
import dev.unpoll.outbox.spring.SpringOutbox;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.jooq.impl.DefaultConfiguration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** The code docs/outbox.md quotes, between tag::name[] and end::name[] markers. */
@ExtendWith(UnpollStackExtension.class)
class OutboxDocSnippetsIT {
  private static DataSource dataSource;

  record OrderCreated(long orderId, String customer) {}

  @BeforeAll
  static void database(TestPostgres server) throws SQLException {
    dataSource = server.createDatabase("outbox_doc_snippets_it").dataSource();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
    }
  }

  @Test
  void createsTheTableAndChecksIt() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS unpoll_outbox");
    }
    // tag::ddl[]
    Outbox outbox = Outbox.builder().build(); // TABLE strategy, public.unpoll_outbox
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute(outbox.ddl()); // or ship Outbox.DDL_RESOURCE as a Flyway migration
      outbox.verifySchema(connection); // throws, naming every missing or mismatched column
    }
    // end::ddl[]
    try (Connection c = dataSource.getConnection()) {
      assertThat(outbox.checkSchema(c)).isEmpty();
    }
  }

  @Test
  void publishesWithPlainJdbc() throws SQLException {
    ensureTable();
    // tag::jdbc[]
    Outbox outbox = Outbox.builder().build(); // build once, share: it is thread-safe

    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false); // the outbox refuses auto-commit connections
      try (PreparedStatement insert =
          connection.prepareStatement("INSERT INTO orders (id, customer) VALUES (?, ?)")) {
        insert.setLong(1, 42);
        insert.setString(2, "ada");
        insert.executeUpdate();
      }
      outbox.publish(
          connection, OutboxEvent.of("order", "42", "OrderCreated", new OrderCreated(42, "ada")));
      connection.commit(); // the order and its event, or neither
    }
    // end::jdbc[]
    assertThat(eventsFor("42")).isEqualTo(1);
  }

  @Test
  void publishesAndCommitsInOneRoundTrip() throws SQLException {
    ensureTable();
    Outbox outbox = Outbox.builder().build();
    // tag::commit[]
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false);
      try (PreparedStatement insert =
          connection.prepareStatement("INSERT INTO orders (id, customer) VALUES (?, ?)")) {
        insert.setLong(1, 45);
        insert.setString(2, "edsger");
        insert.executeUpdate();
      }
      // in place of connection.commit(): the event's INSERT and the COMMIT in one round trip
      outbox.publishAndCommit(
          connection,
          OutboxEvent.of("order", "45", "OrderCreated", new OrderCreated(45, "edsger")));
    }
    // end::commit[]
    assertThat(eventsFor("45")).isEqualTo(1);
  }

  @Test
  void publishesInASpringTransaction() {
    ensureTable();
    // tag::spring[]
    // beans: DataSource dataSource; PlatformTransactionManager on the same DataSource
    SpringOutbox outbox = SpringOutbox.of(Outbox.builder().build(), dataSource);
    JdbcTemplate jdbc = new JdbcTemplate(dataSource);
    TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));

    tx.executeWithoutResult( // or a @Transactional method
        status -> {
          jdbc.update("INSERT INTO orders (id, customer) VALUES (?, ?)", 43, "grace");
          outbox.publish(
              OutboxEvent.of("order", "43", "OrderCreated", new OrderCreated(43, "grace")));
        });
    // end::spring[]
    assertThat(eventsFor("43")).isEqualTo(1);
  }

  @Test
  void publishesWithSpringsCommit() {
    ensureTable();
    JdbcTemplate jdbc = new JdbcTemplate(dataSource);
    TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    // tag::spring-deferred[]
    SpringOutbox outbox =
        SpringOutbox.builder()
            .outbox(Outbox.builder().build())
            .dataSource(dataSource) // the transaction manager's DataSource
            .deferToCommit(true) // hold the events, send them with Spring's COMMIT
            .build();

    tx.executeWithoutResult( // or a @Transactional method
        status -> {
          jdbc.update("INSERT INTO orders (id, customer) VALUES (?, ?)", 46, "barbara");
          outbox.publish(
              OutboxEvent.of("order", "46", "OrderCreated", new OrderCreated(46, "barbara")));
          // nothing written yet: the INSERT travels with the COMMIT, in one round trip
        });
    // end::spring-deferred[]
    assertThat(eventsFor("46")).isEqualTo(1);
  }

  @Test
  void publishesWithJooqsCommit() {
    ensureTable();
    // tag::jooq-deferred[]
    DSLContext dsl =
        DSL.using(
            new DefaultConfiguration()
                .set(dataSource)
                .set(SQLDialect.POSTGRES)
                .set(JooqOutbox.transactionListener())); // writes the held events at commit
    JooqOutbox outbox =
        JooqOutbox.builder().outbox(Outbox.builder().build()).deferToCommit(true).build();

    dsl.transaction(
        cfg -> {
          cfg.dsl().execute("INSERT INTO orders (id, customer) VALUES (?, ?)", 47, "niklaus");
          outbox.publish(
              cfg.dsl(),
              OutboxEvent.of("order", "47", "OrderCreated", new OrderCreated(47, "niklaus")));
        }); // the event's INSERT and the COMMIT in one round trip
    // end::jooq-deferred[]
    assertThat(eventsFor("47")).isEqualTo(1);
  }

  @Test
  void publishesInAJooqTransaction() {
    ensureTable();
    // tag::jooq[]
    DSLContext dsl = DSL.using(dataSource, SQLDialect.POSTGRES);
    JooqOutbox outbox = JooqOutbox.of(Outbox.builder().build());

    dsl.transaction(
        cfg -> {
          cfg.dsl().execute("INSERT INTO orders (id, customer) VALUES (?, ?)", 44, "linus");
          outbox.publish(
              cfg.dsl(), // the transaction's context, not the outer dsl
              OutboxEvent.of("order", "44", "OrderCreated", new OrderCreated(44, "linus")));
        });
    // end::jooq[]
    assertThat(eventsFor("44")).isEqualTo(1);
  }

  @Test
  void buildsEventsAndWritersWithEveryOption() throws SQLException {
    // tag::options[]
    Outbox walOutbox =
        Outbox.builder()
            .strategy(OutboxStrategy.WAL_MESSAGE) // no table: pg_logical_emit_message
            .walPrefix("unpoll.outbox") // the default; the relay filters on it
            .build();

    Outbox tableOutbox =
        Outbox.builder()
            .schema("public")
            .table("unpoll_outbox")
            .column(OutboxColumn.AGGREGATE_TYPE, "aggregatetype") // every name configurable
            .deleteAfterInsert(true) // the WAL keeps the insert, the table stays empty
            .serializer(PayloadSerializer.jackson()) // the default when Jackson is present
            .build();

    OutboxEvent event =
        OutboxEvent.builder()
            .id(java.util.UUID.fromString("0193a5c2-7b1e-7c3d-8e4f-0123456789ab")) // optional
            .aggregate("invoice", "INV-7")
            .type("InvoiceRendered")
            .payload(new byte[] {0x25, 0x50, 0x44, 0x46}, "application/pdf") // stored base64
            .header("trace-id", "4bf92f3577b34da6")
            .build();
    // end::options[]
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      walOutbox.publish(c, event);
      tableOutbox.publishAll(c, List.of(event.withId(java.util.UUID.randomUUID())));
      c.rollback();
    }
  }

  private static void ensureTable() {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          Outbox.builder().build().ddl().replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long eventsFor(String aggregateId) {
    return new JdbcTemplate(dataSource)
        .queryForObject(
            "SELECT count(*) FROM unpoll_outbox WHERE aggregateid = ?", Long.class, aggregateId);
  }
}
