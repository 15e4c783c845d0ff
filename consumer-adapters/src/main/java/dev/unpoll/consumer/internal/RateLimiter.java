package dev.unpoll.consumer.internal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A smooth rate limiter shared by a runner's threads: each permit is spaced {@code 1/rate} after
 * the previous one, and a batch of permits waits for the slot of its last permit; waiting ends
 * early when {@code stop} is counted down.
 */
public final class RateLimiter {
  private final long intervalNanos;
  private long next = System.nanoTime();

  /** A limiter of {@code permitsPerSecond}. */
  public RateLimiter(double permitsPerSecond) {
    this.intervalNanos = (long) (1_000_000_000L / permitsPerSecond);
  }

  private synchronized long reserve(int permits) {
    long now = System.nanoTime();
    if (next < now) {
      next = now;
    }
    // the last of the permits gets its own slot, so even the first batch respects the rate
    long wait = next + intervalNanos * (permits - 1) - now;
    next += intervalNanos * permits;
    return wait;
  }

  /**
   * Waits until {@code permits} may be used.
   *
   * @return false if {@code stop} fired while waiting
   */
  public boolean acquire(int permits, CountDownLatch stop) throws InterruptedException {
    long wait = reserve(permits);
    return wait <= 0 || !stop.await(wait, TimeUnit.NANOSECONDS);
  }
}
