package dev.unpoll.relay;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/** Shared helpers of the relay's integration tests. */
final class RelayFixtures {

  private RelayFixtures() {}

  /** The source and kafka sections for a test database, slot and publication named {@code slot}. */
  static String baseYaml(TestPostgres db, TestKafka kafka, String slot) {
    return """
        source:
          jdbc-url: %s
          user: %s
          password: ${TEST_DB_PASSWORD}
          slot: %s
          publication: %s
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
        """
        .formatted(db.jdbcUrl(), db.user(), slot, slot, kafka.bootstrapServers());
  }

  /**
   * {@code yaml} with the relay's HTTP endpoint off unless it sets one: a relay run through {@code
   * RelayMain} would otherwise bind the default port 8080, and fail when anything else on the
   * machine holds it.
   */
  static String withoutHttp(String yaml) {
    return yaml.contains("\nhttp:")
        ? yaml
        : yaml + (yaml.endsWith("\n") ? "" : "\n") + "http:\n  port: 0\n";
  }

  static Map<String, String> env(TestPostgres db) {
    return Map.of("TEST_DB_PASSWORD", db.password());
  }

  static UnpollConfig config(TestPostgres db, String yaml) {
    return UnpollConfig.parse(yaml, env(db));
  }

  /**
   * COPYs rows {@code from..to} ({@code id, note}) into {@code table}: PostgreSQL writes them as
   * multi-insert WAL records, one per heap page, whose rows share one LSN.
   */
  static void copy(TestPostgres db, String table, int from, int to) {
    StringBuilder csv = new StringBuilder();
    for (int i = from; i <= to; i++) {
      csv.append(i).append(",row-").append(i).append('\n');
    }
    try (Connection c = db.connect()) {
      long copied =
          c.unwrap(org.postgresql.PGConnection.class)
              .getCopyAPI()
              .copyIn(
                  "COPY " + table + " (id, note) FROM STDIN (FORMAT csv)",
                  new java.io.StringReader(csv.toString()));
      if (copied != to - from + 1) {
        throw new IllegalStateException("copied " + copied + " rows, not " + (to - from + 1));
      }
    } catch (SQLException | java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static void sql(TestPostgres db, String... statements) {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String st : statements) {
        s.execute(st);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  static String key(ConsumerRecord<byte[], byte[]> r) {
    return new String(r.key(), StandardCharsets.UTF_8);
  }

  static String value(ConsumerRecord<byte[], byte[]> r) {
    return r.value() == null ? null : new String(r.value(), StandardCharsets.UTF_8);
  }
}
