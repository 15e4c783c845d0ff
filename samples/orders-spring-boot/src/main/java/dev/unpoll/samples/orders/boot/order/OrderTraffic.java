package dev.unpoll.samples.orders.boot.order;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Customers, for the README's walk-through: places an order every interval, and every tenth one is
 * declined (its transaction rolls back). On when {@code orders.traffic.every} is set.
 */
public final class OrderTraffic implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OrderTraffic.class);
  private final ScheduledExecutorService scheduler;
  private final AtomicLong placed = new AtomicLong();
  private final AtomicLong declined = new AtomicLong();

  OrderTraffic(OrderService orders, Duration every) {
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              // not a daemon: it keeps the service running, as a web server would
              return new Thread(r, "order-traffic");
            });
    AtomicLong n = new AtomicLong();
    scheduler.scheduleWithFixedDelay(
        () -> {
          long i = n.incrementAndGet();
          try {
            if (i % 10 == 0) {
              orders.placeOrderThenFail("customer-" + i, new BigDecimal("20.00"));
            } else {
              orders.placeOrder("customer-" + i, new BigDecimal("10.50"));
              placed.incrementAndGet();
            }
          } catch (IllegalStateException declinedCard) {
            declined.incrementAndGet();
          } catch (RuntimeException e) {
            LOG.warn("placing an order failed: {}", e.toString());
          }
          if (i % 50 == 0) {
            LOG.info("orders placed: {}, declined (rolled back): {}", placed, declined);
          }
        },
        0,
        every.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    LOG.info("orders placed: {}, declined (rolled back): {}", placed, declined);
  }
}
