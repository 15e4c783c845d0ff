package dev.unpoll.spring.boot;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxStrategy;
import java.sql.Connection;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * Whether the outbox writer can write: {@link Outbox#checkSchema} on a connection of the {@code
 * DataSource} (for TABLE the table, each column and its type, INSERT and, with delete-after-insert,
 * DELETE privilege; for WAL_MESSAGE {@code wal_level=logical}). A few catalog queries, no write.
 * DOWN lists every problem.
 */
public final class OutboxHealthIndicator extends AbstractHealthIndicator {
  private final Outbox outbox;
  private final DataSource dataSource;

  /** Checks {@code outbox} against {@code dataSource}. */
  public OutboxHealthIndicator(Outbox outbox, DataSource dataSource) {
    super("the outbox schema check failed");
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) throws Exception {
    builder.withDetail("strategy", outbox.strategy().name());
    if (outbox.strategy() == OutboxStrategy.TABLE) {
      builder.withDetail("table", outbox.schema() + "." + outbox.table());
    } else {
      builder.withDetail("walPrefix", outbox.walPrefix());
    }
    List<String> problems;
    try (Connection c = dataSource.getConnection()) {
      problems = outbox.checkSchema(c);
    }
    if (problems.isEmpty()) {
      builder.up();
    } else {
      builder.down().withDetail("problems", problems);
    }
  }
}
