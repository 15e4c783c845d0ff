package dev.unpoll.samples.orders.migrated;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/** Small query helpers of the samples' tests. */
final class Db {
  private Db() {}

  static long count(TestPostgres db, String sql) throws SQLException {
    List<Long> values = longs(db, sql);
    return values.isEmpty() ? 0 : values.get(0);
  }

  static List<Long> longs(TestPostgres db, String sql) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      List<Long> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getLong(1));
      }
      return out;
    }
  }

  static List<String> strings(TestPostgres db, String sql) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    }
  }

  /** The placeholders of the samples' relay YAML files, for the testkit's servers. */
  static Map<String, String> relayEnv(TestPostgres db, TestKafka kafka) {
    return Map.of(
        "ORDERS_DB_URL", db.jdbcUrl(),
        "ORDERS_DB_USER", db.user(),
        "ORDERS_DB_PASSWORD", db.password(),
        "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
  }

  static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
