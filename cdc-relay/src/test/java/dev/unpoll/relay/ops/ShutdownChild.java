package dev.unpoll.relay.ops;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A tiny relay stand-in run as a child JVM by {@link GracefulShutdownIT}: registers the shutdown
 * hook, says READY, then waits to be signalled. With the argument {@code hang} its stop action
 * never finishes.
 */
final class ShutdownChild {
  private ShutdownChild() {}

  public static void main(String[] args) throws InterruptedException {
    boolean hang = args.length > 0 && args[0].equals("hang");
    GracefulShutdown.builder()
        .name("child relay")
        .timeout(Duration.ofMillis(hang ? 500 : 10_000))
        .action(
            () -> {
              System.out.println("STOP-ACTION-STARTED");
              if (hang) {
                try {
                  new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                  System.out.println("STOP-ACTION-INTERRUPTED");
                }
              } else {
                System.out.println("STOP-ACTION-FLUSHED");
              }
              System.out.flush();
            })
        .build()
        .registerShutdownHook();
    System.out.println("READY");
    System.out.flush();
    new CountDownLatch(1).await(); // the relay's main thread, streaming until signalled
  }
}
