package dev.unpoll.benchmarks;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.task.TaskExecutor;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.init.ScriptUtils;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.modulith.events.ApplicationModuleListener;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * O1 peer: Spring Modulith's JDBC event publication registry, as its reference documentation sets
 * it up: an {@link ApplicationModuleListener} for the event, and the event published with {@link
 * ApplicationEventPublisher#publishEvent} inside the Spring transaction that inserts the order, so
 * the registry writes the publication row ({@code event_publication}) in that transaction. The
 * Spring context is what Spring Boot's auto-configuration would build, registered by hand: the
 * benchmark jar is shaded, which would merge away Boot's {@code AutoConfiguration.imports} files.
 * The context uses the benchmark's pool of one connection, {@link JdbcTemplate} and {@link
 * JdbcTransactionManager}; the registry's schema is created at start from Modulith's own script,
 * the event is serialized with Jackson (Modulith's default serializer).
 *
 * <p>What is measured is the write: the listener is asynchronous (as {@code
 * ApplicationModuleListener} is) and its executor drops the task, so after the commit no listener
 * runs and no publication is marked completed in any variant's slice; the publications stay
 * incomplete, as an unpoll event stays in its table until the relay reads it.
 */
final class ModulithPeer implements AutoCloseable {

  /** The registry's table (Modulith's default name). */
  static final String TABLE = "event_publication";

  /** Modulith's PostgreSQL schema (the v2 layout; the v1 repository writes into it as well). */
  private static final String SCHEMA =
      "org/springframework/modulith/events/jdbc/schemas/v2/schema-postgresql.sql";

  /** The event; the listener's parameter type. */
  public record OrderCreated(long orderId, String payload) {}

  /** The listener a module would register; it never runs here (see the class comment). */
  public static class OrderListener {
    @ApplicationModuleListener
    public void on(OrderCreated event) {}
  }

  /** The beans an application (or Boot) provides around the registry. */
  @Configuration(proxyBeanMethods = false)
  @EnableAsync
  @EnableTransactionManagement
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

    /**
     * The application's JSON mapper, as Spring Boot's Jackson auto-configuration provides it.
     * Without one, Modulith's serializer builds a new default mapper for every event (measured: a
     * sixth of the throughput), which no Boot application sees.
     */
    @Bean
    JsonMapper jsonMapper() {
      return JsonMapper.builder().build();
    }

    @Bean
    OrderListener orderListener() {
      return new OrderListener();
    }

    /** The listener's executor: the dispatcher off, the task is dropped. */
    @Bean
    TaskExecutor taskExecutor() {
      return task -> {};
    }
  }

  private final AnnotationConfigApplicationContext context;
  private final TransactionTemplate transactions;
  private final JdbcTemplate jdbc;
  private final ApplicationEventPublisher events;

  ModulithPeer(DataSource dataSource) throws SQLException {
    // Modulith's own schema script for PostgreSQL. Its schema initializer
    // (spring.modulith.events.jdbc.schema-initialization.enabled) holds one connection while it
    // takes a second to run the script, which a pool of one connection cannot give.
    try (Connection c = dataSource.getConnection()) {
      ScriptUtils.executeSqlScript(c, new ClassPathResource(SCHEMA));
    }
    context = new AnnotationConfigApplicationContext();
    // the benchmark's pool: closing this context must not close it
    context.registerBean(
        DataSource.class, () -> dataSource, definition -> definition.setDestroyMethodName(""));
    context.register(Application.class);
    try {
      // Boot's auto-configurations of the registry, in the order Boot applies them.
      for (String type :
          new String[] {
            "org.springframework.modulith.events.jackson.JacksonEventSerializationConfiguration",
            "org.springframework.modulith.events.jdbc.JdbcEventPublicationAutoConfiguration",
            "org.springframework.modulith.events.config.EventPublicationAutoConfiguration"
          }) {
        context.register(Class.forName(type));
      }
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("Spring Modulith is not on the class path", e);
    }
    context.refresh();
    transactions = context.getBean(TransactionTemplate.class);
    jdbc = context.getBean(JdbcTemplate.class);
    events = context;
  }

  /** One business transaction: the order row and one published event, committed. */
  void run(long id) {
    transactions.executeWithoutResult(
        status -> {
          jdbc.update(
              c -> {
                var ps = c.prepareStatement(OrderTransactions.INSERT_ORDER);
                OrderTransactions.bindOrder(ps, id);
                return ps;
              });
          events.publishEvent(new OrderCreated(id, OrderTransactions.payload(id)));
        });
  }

  @Override
  public void close() {
    context.close();
  }
}
