package dev.unpoll.spring.boot;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.PayloadSerializer;
import dev.unpoll.outbox.spring.SpringOutbox;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.ResourceTransactionManager;

/**
 * The outbox writer: an {@link Outbox} configured from {@code unpoll.outbox.*} and a {@link
 * SpringOutbox} that writes through the connection of the Spring transaction on the application's
 * {@code DataSource}. On when unpoll-outbox-core and spring-jdbc are on the classpath and the
 * context has one {@code DataSource}; each bean backs off when the application defines its own.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration"
    })
@ConditionalOnClass({Outbox.class, SpringOutbox.class, DataSourceUtils.class})
@ConditionalOnProperty(
    prefix = "unpoll.outbox",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@ConditionalOnSingleCandidate(DataSource.class)
@EnableConfigurationProperties(UnpollOutboxProperties.class)
public class UnpollOutboxAutoConfiguration {

  /**
   * The writer; with {@code unpoll.outbox.verify-schema=true} it checks the database first. An
   * application {@link PayloadSerializer} bean, if any, serializes the payloads.
   */
  @Bean
  @ConditionalOnMissingBean
  public Outbox unpollOutbox(
      UnpollOutboxProperties properties,
      DataSource dataSource,
      ObjectProvider<PayloadSerializer> serializer) {
    Outbox outbox = properties.toBuilder().serializer(serializer.getIfUnique()).build();
    if (properties.isVerifySchema()) {
      Connection connection;
      try {
        connection = dataSource.getConnection();
      } catch (SQLException | RuntimeException e) { // pools throw their own unchecked exceptions
        throw unreachable(e);
      }
      try (Connection c = connection) {
        outbox.verifySchema(c); // throws OutboxException listing what is missing
      } catch (SQLException e) {
        throw unreachable(e);
      }
    }
    return outbox;
  }

  private static UnpollStarterException unreachable(Exception e) {
    return new UnpollStarterException(
        "unpoll.outbox.verify-schema=true, but the database could not be reached to check the"
            + " outbox schema: "
            + e.getMessage()
            + "; fix the connection settings (spring.datasource.*) or set"
            + " unpoll.outbox.verify-schema=false",
        e);
  }

  /**
   * Publishes in the current Spring transaction on {@code dataSource}, with its COMMIT when {@code
   * unpoll.outbox.defer-to-commit=true}. Refuses to start when the transaction manager manages
   * another {@code DataSource}: the events would not commit with the business write.
   */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnSingleCandidate(Outbox.class)
  public SpringOutbox springOutbox(
      Outbox outbox,
      UnpollOutboxProperties properties,
      DataSource dataSource,
      ObjectProvider<PlatformTransactionManager> transactionManager) {
    PlatformTransactionManager tm = transactionManager.getIfUnique();
    if (tm instanceof ResourceTransactionManager rtm
        && rtm.getResourceFactory() instanceof DataSource other
        && other != dataSource) {
      throw new UnpollStarterException(
          "the transaction manager "
              + tm.getClass().getName()
              + " manages another DataSource than the one SpringOutbox writes to, so the events"
              + " would not commit with the business write: give both the same DataSource, or"
              + " define your own SpringOutbox bean (SpringOutbox.of(outbox, dataSource)) on the"
              + " transaction manager's DataSource");
    }
    return SpringOutbox.builder()
        .outbox(outbox)
        .dataSource(dataSource)
        .deferToCommit(properties.isDeferToCommit())
        .build();
  }
}
