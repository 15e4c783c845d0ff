package dev.unpoll.cli.internal;

import dev.unpoll.migration.Progress;
import java.io.PrintWriter;

/**
 * Progress of long work on a terminal: one line rewritten in place on stderr. Silent when output is
 * JSON or stderr is not a terminal, so scripts and logs see only results.
 */
public final class TerminalProgress implements Progress {
  private static final long MIN_INTERVAL_NANOS = 200_000_000L;

  private final PrintWriter err;
  private final boolean enabled;
  private long last;
  private boolean shown;

  private TerminalProgress(PrintWriter err, boolean enabled) {
    this.err = err;
    this.enabled = enabled;
  }

  /** Progress on {@code err} when {@code terminal} and not {@code json}. */
  public static TerminalProgress of(PrintWriter err, boolean terminal, boolean json) {
    return new TerminalProgress(err, terminal && !json);
  }

  @Override
  public void update(String what, long done, long total) {
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    if (now - last < MIN_INTERVAL_NANOS) {
      return;
    }
    last = now;
    shown = true;
    err.print("\r" + what + ": " + done + (total > 0 ? " / " + total : "") + "   ");
    err.flush();
  }

  /** Clears the progress line. */
  @Override
  public void done() {
    if (enabled && shown) {
      err.print("\r\033[K");
      err.flush();
      shown = false;
    }
  }
}
