package dev.unpoll.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The health contributors and the start-up checks against the real PostgreSQL: DOWN, saying what is
 * missing, until the tables exist; UP after.
 */
@ExtendWith(UnpollStackExtension.class)
class UnpollHealthIT {

  private static ApplicationContextRunner runner(TestPostgres db) {
    return new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                DataSourceAutoConfiguration.class,
                DataSourceTransactionManagerAutoConfiguration.class,
                UnpollOutboxAutoConfiguration.class,
                UnpollConsumerAutoConfiguration.class,
                UnpollHealthAutoConfiguration.class))
        .withPropertyValues(
            "spring.datasource.url=" + db.jdbcUrl(),
            "spring.datasource.username=" + db.user(),
            "spring.datasource.password=" + db.password(),
            "unpoll.consumer.group=health-it");
  }

  @Test
  void healthIsDownSayingWhatIsMissingUntilTheTablesExist(TestPostgres server) throws SQLException {
    TestPostgres db = server.createDatabase("spring_boot_health_it");
    runner(db)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              Health outbox = context.getBean(OutboxHealthIndicator.class).health();
              assertThat(outbox.getStatus()).isEqualTo(Status.DOWN);
              assertThat(outbox.getDetails()).containsEntry("table", "public.unpoll_outbox");
              assertThat((List<?>) outbox.getDetails().get("problems"))
                  .singleElement()
                  .asString()
                  .contains("public.unpoll_outbox")
                  .contains("does not exist");
              Health store = context.getBean(IdempotencyStoreHealthIndicator.class).health();
              assertThat(store.getStatus()).isEqualTo(Status.DOWN);
              assertThat(store.getDetails().get("error").toString())
                  .contains("unpoll_processed")
                  .contains("does not exist");
            });

    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(Outbox.builder().build().ddl());
    }
    runner(db)
        .withPropertyValues("unpoll.consumer.idempotency.create-tables=true")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(OutboxHealthIndicator.class).health().getStatus())
                  .isEqualTo(Status.UP);
              Health store = context.getBean(IdempotencyStoreHealthIndicator.class).health();
              assertThat(store.getStatus()).isEqualTo(Status.UP);
              assertThat(store.getDetails())
                  .containsEntry("group", "health-it")
                  .containsEntry("table", "public.unpoll_processed");
            });
  }

  @Test
  void withoutTheInsertPrivilegeBothContributorsAreDown(TestPostgres server) throws SQLException {
    TestPostgres db = server.createDatabase("spring_boot_privileges_it");
    // roles are cluster-wide: a name of its own, in case the server outlives this run
    String reader = "unpoll_reader_" + UUID.randomUUID().toString().substring(0, 8);
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(Outbox.builder().build().ddl());
      s.execute("CREATE ROLE " + reader + " LOGIN PASSWORD 'reader-it'");
      s.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + reader);
    }
    runner(db)
        .withPropertyValues("unpoll.consumer.idempotency.create-tables=true")
        .run(context -> assertThat(context).hasNotFailed()); // creates the store's tables
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + reader);
    }
    runner(db)
        .withPropertyValues(
            "spring.datasource.username=" + reader, "spring.datasource.password=reader-it")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              Health outbox = context.getBean(OutboxHealthIndicator.class).health();
              assertThat(outbox.getStatus()).isEqualTo(Status.DOWN);
              assertThat(outbox.getDetails().get("problems").toString()).contains("INSERT");
              Health store = context.getBean(IdempotencyStoreHealthIndicator.class).health();
              assertThat(store.getStatus()).isEqualTo(Status.DOWN);
              assertThat(store.getDetails().get("problem").toString())
                  .isEqualTo(
                      "no INSERT privilege on public.unpoll_processed for the consumer's"
                          + " database user: GRANT INSERT ON it");
            });
  }

  @Test
  void verifySchemaFailsTheStartListingWhatIsMissing(TestPostgres server) {
    TestPostgres db = server.createDatabase("spring_boot_verify_schema_it");
    runner(db)
        .withPropertyValues("unpoll.outbox.verify-schema=true", "unpoll.outbox.table=orders_outbox")
        .run(
            context -> {
              assertThat(context).hasFailed();
              StringBuilder messages = new StringBuilder();
              for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
                messages.append(t.getMessage()).append('\n');
              }
              assertThat(messages.toString())
                  .contains("the database is not ready for the outbox (TABLE)")
                  .contains("public.orders_outbox");
            });
  }
}
