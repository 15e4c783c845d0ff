package dev.unpoll.samples.orders.boot;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The legacy world's two pollers as one process, for the README's walk-through: creates the legacy
 * schema if absent, then polls {@code shop.inventory_integration} and {@code
 * shop.payment_integration} every second until stopped (Ctrl-C). The database comes from the
 * environment: {@code ORDERS_DB_URL}, {@code ORDERS_DB_USER}, {@code PGPASSWORD}.
 */
public final class LegacyPollers {
  private LegacyPollers() {}

  public static void main(String[] args) throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(env("ORDERS_DB_URL"));
    config.setUsername(env("ORDERS_DB_USER"));
    config.setPassword(env("PGPASSWORD"));
    config.setMaximumPoolSize(4);
    HikariDataSource dataSource = new HikariDataSource(config);
    LegacySchema.create(dataSource);
    LegacyPoller inventory = new LegacyPoller(dataSource, Downstream.INVENTORY);
    LegacyPoller payment = new LegacyPoller(dataSource, Downstream.PAYMENT);
    inventory.start(Duration.ofSeconds(1));
    payment.start(Duration.ofSeconds(1));
    System.out.println("legacy pollers running: inventory and payment poll every second");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  inventory.stop();
                  payment.stop();
                  System.out.printf(
                      "legacy pollers stopped: inventory handled %d rows, payment %d%n",
                      inventory.handled(), payment.handled());
                  dataSource.close();
                  stopped.countDown();
                }));
    stopped.await();
  }

  private static String env(String name) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "environment variable " + name + " is not set; export it as `unpoll dev up` prints");
    }
    return value;
  }
}
