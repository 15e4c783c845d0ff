package dev.unpoll.samples.orders.migrated;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a task at a steady rate on its own thread and keeps each result: the order traffic of
 * service A (the ids it placed) or the legacy cleanup job (rows deleted per run).
 */
final class Repeating implements AutoCloseable {
  /** One run; {@code n} counts from 0. */
  @FunctionalInterface
  interface Task {
    long run(int n) throws SQLException;
  }

  private final List<Long> results = new CopyOnWriteArrayList<>();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final ScheduledExecutorService executor;

  Repeating(String name, Duration every, Task task) {
    executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
    executor.scheduleAtFixedRate(
        () -> {
          try {
            results.add(task.run(results.size()));
          } catch (SQLException | RuntimeException e) {
            failure.compareAndSet(null, e);
            throw new IllegalStateException(e); // ends the schedule; results() reports it
          }
        },
        0,
        every.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** The results so far, in order; throws if a run failed. */
  List<Long> results() {
    if (failure.get() != null) {
      throw new AssertionError("a run failed", failure.get());
    }
    return List.copyOf(results);
  }

  /** Stops and waits for the run in progress; throws if a run failed. */
  @Override
  public void close() throws InterruptedException {
    executor.shutdown();
    if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("task did not stop");
    }
    results();
  }
}
