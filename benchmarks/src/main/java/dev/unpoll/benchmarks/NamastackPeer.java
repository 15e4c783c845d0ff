package dev.unpoll.benchmarks;

import io.namastack.outbox.Outbox;
import io.namastack.outbox.handler.OutboxRecordMetadata;
import io.namastack.outbox.handler.OutboxTypedHandler;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.init.ScriptUtils;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * O1 peer: namastack-outbox (JDBC starter) as its documentation sets it up: a handler bean for the
 * payload type ({@link OutboxTypedHandler}) and {@link Outbox#schedule(Object, String)} inside the
 * Spring transaction that inserts the order, so the record ({@code outbox_record}) is written in
 * that transaction. As for {@link ModulithPeer}, the context is built by hand from the library's
 * auto-configurations (the shaded jar would merge away Boot's imports files) over the benchmark's
 * pool of one connection, and the schema comes from the library's own script.
 *
 * <p>What is measured is the write: of namastack's auto-configurations only the infrastructure (the
 * {@code Outbox} bean, handler registry, instance registry), the JDBC store and the Jackson
 * serializer are registered; the threading, processing, scheduling and multicaster ones, which poll
 * the table, send heartbeats, rebalance partitions and run handlers, are not, so no background work
 * runs in any variant's slice. The records stay {@code NEW}, as an unpoll event stays in its table
 * until the relay reads it.
 */
final class NamastackPeer implements AutoCloseable {

  /** namastack's record table (its default name). */
  static final String TABLE = "outbox_record";

  private static final String SCHEMA = "schema/postgres/outbox-tables.sql";

  /** The payload scheduled. */
  public record OrderCreated(long orderId, String payload) {}

  /** The handler a team registers; it never runs here (see the class comment). */
  public static class OrderCreatedHandler implements OutboxTypedHandler<OrderCreated> {
    @Override
    public void handle(OrderCreated payload, OutboxRecordMetadata metadata) {}
  }

  /** The beans an application (or Boot) provides around the outbox. */
  @Configuration(proxyBeanMethods = false)
  static class Application {
    @Bean
    JdbcTemplate jdbcTemplate(DataSource dataSource) {
      return new JdbcTemplate(dataSource);
    }

    @Bean
    PlatformTransactionManager transactionManager(DataSource dataSource) {
      return new JdbcTransactionManager(dataSource);
    }

    @Bean
    TransactionTemplate transactionTemplate(PlatformTransactionManager transactionManager) {
      return new TransactionTemplate(transactionManager);
    }

    /** The application's JSON mapper, as Spring Boot's Jackson auto-configuration provides it. */
    @Bean
    JsonMapper jsonMapper() {
      return JsonMapper.builder().build();
    }

    /**
     * The scheduler the instance registry asks for by name (its auto-configuration's bean). Its
     * heartbeat and rebalance intervals are set to an hour, so nothing runs after start.
     */
    @Bean
    ThreadPoolTaskScheduler outboxDefaultScheduler() {
      ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
      scheduler.setThreadNamePrefix("namastack-idle-");
      return scheduler;
    }

    @Bean
    OrderCreatedHandler orderCreatedHandler() {
      return new OrderCreatedHandler();
    }
  }

  private final AnnotationConfigApplicationContext context;
  private final TransactionTemplate transactions;
  private final JdbcTemplate jdbc;
  private final Outbox outbox;

  NamastackPeer(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      ScriptUtils.executeSqlScript(c, new ClassPathResource(SCHEMA));
    }
    context = new AnnotationConfigApplicationContext();
    context
        .getEnvironment()
        .getPropertySources()
        .addFirst(
            new MapPropertySource(
                "o1",
                Map.of(
                    "namastack.outbox.jdbc.schema-initialization.enabled", "false",
                    "namastack.outbox.instance.heartbeat-interval", "1h",
                    "namastack.outbox.instance.rebalance-interval", "1h",
                    "namastack.outbox.rebalance-interval", "1h")));
    // the benchmark's pool: closing this context must not close it
    context.registerBean(
        DataSource.class, () -> dataSource, definition -> definition.setDestroyMethodName(""));
    context.register(Application.class);
    try {
      for (String type :
          new String[] {
            "io.namastack.outbox.OutboxJacksonAutoConfiguration",
            "io.namastack.outbox.config.JdbcOutboxAutoConfiguration",
            "io.namastack.outbox.config.OutboxCoreInfrastructureAutoConfiguration"
          }) {
        context.register(Class.forName(type));
      }
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("namastack-outbox is not on the class path", e);
    }
    context.refresh();
    transactions = context.getBean(TransactionTemplate.class);
    jdbc = context.getBean(JdbcTemplate.class);
    outbox = context.getBean(Outbox.class);
  }

  /** One business transaction: the order row and one scheduled record, committed. */
  void run(long id) {
    transactions.executeWithoutResult(
        status -> {
          jdbc.update(
              c -> {
                var ps = c.prepareStatement(OrderTransactions.INSERT_ORDER);
                OrderTransactions.bindOrder(ps, id);
                return ps;
              });
          outbox.schedule(new OrderCreated(id, OrderTransactions.payload(id)), Long.toString(id));
        });
  }

  @Override
  public void close() {
    context.close();
  }
}
