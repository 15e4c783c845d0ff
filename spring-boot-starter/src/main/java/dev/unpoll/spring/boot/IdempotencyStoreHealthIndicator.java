package dev.unpoll.spring.boot;

import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Objects;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * Whether the idempotency store is reachable: on a connection of the consumer's {@code DataSource},
 * a key lookup in {@value IdempotencyStore#PROCESSED_TABLE} (the table exists and is readable) and
 * the INSERT privilege on it. No write. DOWN says what failed.
 */
public final class IdempotencyStoreHealthIndicator extends AbstractHealthIndicator {
  private static final String PROBE_KEY = "unpoll-health-probe";

  private final IdempotentConsumer consumer;

  /** Checks the store of {@code consumer} on its data source. */
  public IdempotencyStoreHealthIndicator(IdempotentConsumer consumer) {
    super("the idempotency store check failed");
    this.consumer = Objects.requireNonNull(consumer, "consumer");
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) throws Exception {
    IdempotencyStore store = consumer.store();
    builder.withDetail("group", consumer.consumerGroup());
    try (Connection c = consumer.dataSource().getConnection()) {
      String schema = store.schema() != null ? store.schema() : currentSchema(c);
      builder.withDetail("table", schema + "." + IdempotencyStore.PROCESSED_TABLE);
      store.isRecorded(c, consumer.consumerGroup(), PROBE_KEY);
      if (canInsert(c, schema)) {
        builder.up();
      } else {
        builder
            .down()
            .withDetail(
                "problem",
                "no INSERT privilege on "
                    + schema
                    + "."
                    + IdempotencyStore.PROCESSED_TABLE
                    + " for the consumer's database user: GRANT INSERT ON it");
      }
    }
  }

  private static String currentSchema(Connection c) throws java.sql.SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT current_schema()");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static boolean canInsert(Connection c, String schema) throws java.sql.SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT has_table_privilege(format('%I.%I', ?::text, ?::text), 'INSERT')")) {
      ps.setString(1, schema);
      ps.setString(2, IdempotencyStore.PROCESSED_TABLE);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }
}
