package dev.unpoll.cli.internal.command;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Durations;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.migration.engine.MotionObserver;
import dev.unpoll.migration.engine.TablePlan;
import java.io.PrintWriter;
import java.time.Duration;

/** {@code --observe}: the analysis after watching the rows move for a while. */
final class Observing {
  private Observing() {}

  /**
   * The plan of {@code table}; with a {@code window}, after sampling its rows every {@link
   * MotionObserver#SAMPLE_INTERVAL} for that long (at least two samples: one at the start, one at
   * the end).
   */
  static TablePlan plan(
      Migrations migrations, TableName table, String topic, Duration window, PrintWriter progress) {
    if (window == null) {
      return migrations.plan(table, topic);
    }
    try (MotionObserver o = migrations.observe(table)) {
      if (progress != null) {
        progress.println(
            "observing "
                + table.display()
                + " for "
                + Durations.format(window)
                + " (a sample every "
                + Durations.format(MotionObserver.SAMPLE_INTERVAL)
                + ")");
        progress.flush();
      }
      long end = System.nanoTime() + window.toNanos();
      o.sample();
      do {
        long left = Math.max(0, end - System.nanoTime());
        try {
          Thread.sleep(Math.min(MotionObserver.SAMPLE_INTERVAL.toMillis(), left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          o.sample();
          break;
        }
        o.sample();
      } while (System.nanoTime() < end);
      return o.infer(topic);
    }
  }
}
