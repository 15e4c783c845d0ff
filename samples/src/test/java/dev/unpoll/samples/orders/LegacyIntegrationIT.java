package dev.unpoll.samples.orders;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The legacy world the demo and the samples migrate away from, working as teams run it. */
@ExtendWith(UnpollStackExtension.class)
class LegacyIntegrationIT {
  static TestPostgres server;
  static TestPostgres db;

  @BeforeAll
  static void schema(TestPostgres postgres) throws Exception {
    server = postgres;
    db = server.createDatabase("samples_legacy_it");
    LegacySchema.create(db.dataSource());
  }

  @Test
  void twoPollersHandleEveryRowExactlyOnceAndCleanupDeletesHandledRows() throws Exception {
    OrderService orders = new OrderService(db.dataSource());
    for (int i = 0; i < 500; i++) {
      orders.placeOrder("customer-" + i, new BigDecimal("10.50"));
    }
    try (ShippingPoller a = new ShippingPoller(db.dataSource());
        ShippingPoller b = new ShippingPoller(db.dataSource())) {
      a.start(Duration.ofMillis(50));
      b.start(Duration.ofMillis(50));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> count("SELECT count(*) FROM shop.order_integration WHERE status = 'NEW'") == 0);
      a.stop();
      b.stop();
      assertThat(a.handled() + b.handled()).isEqualTo(500);
      assertThat(a.queries()).isPositive();
    }
    assertThat(count("SELECT count(*) FROM shipping.shipments")).isEqualTo(500);
    assertThat(count("SELECT count(DISTINCT integration_id) FROM shipping.handling_log"))
        .isEqualTo(500);
    assertThat(count("SELECT count(*) FROM shipping.handling_log")).isEqualTo(500);

    assertThat(new CleanupJob(db.dataSource()).run(Duration.ZERO)).isEqualTo(500);
    assertThat(count("SELECT count(*) FROM shop.order_integration")).isZero();
  }

  @Test
  void aPollerOfAnotherTableClaimsOnlyThatTablesRows() throws Exception {
    TestPostgres own = server.createDatabase("samples_legacy_other_table_it");
    LegacySchema.create(own.dataSource());
    String other = "shop.\"Other Integration\"";
    try (Connection c = own.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + other + " (LIKE shop.order_integration INCLUDING ALL)");
      s.execute(
          "INSERT INTO "
              + other
              + " (id, order_id, event_type, payload)"
              + " VALUES (-1, -1, 'OrderPlaced', '{\"customer\": \"other\"}')");
    }
    new OrderService(own.dataSource()).placeOrder("not-for-the-other", new BigDecimal("1.00"));

    ShippingPoller poller = new ShippingPoller(own.dataSource(), other);

    assertThat(poller.pollOnce()).isEqualTo(1);
    assertThat(count(own, "SELECT count(*) FROM " + other + " WHERE status = 'DONE'")).isEqualTo(1);
    assertThat(count(own, "SELECT count(*) FROM shop.order_integration WHERE status = 'NEW'"))
        .isEqualTo(1);
    assertThat(count(own, "SELECT integration_id FROM shipping.handling_log")).isEqualTo(-1);
    assertThat(poller.pollOnce()).isZero();
  }

  private static long count(String sql) throws Exception {
    return count(db, sql);
  }

  private static long count(TestPostgres in, String sql) throws Exception {
    try (Connection c = in.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
