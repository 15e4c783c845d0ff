package dev.unpoll.cli.internal;

import dev.unpoll.migration.Progress;
import java.io.PrintWriter;
import java.util.function.IntSupplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long work on a terminal: a progress bar (me.tongfei:progressbar) with the count, the
 * rate and, when the total is known, the ETA, rewritten in place on stderr and cleared when the
 * work is done. Silent when output is JSON or stderr is not a terminal, so scripts and logs see
 * only results.
 */
public final class TerminalProgress implements Progress {
  /** How often the bar is redrawn. */
  static final int REFRESH_MILLIS = 200;

  /** Back to the line's start, erase it (ANSI). */
  private static final String CLEAR_LINE = "\r\033[K";

  private final PrintWriter err;
  private final boolean enabled;
  private final IntSupplier width;
  private ProgressBar bar;
  private String task;
  private long max;

  private TerminalProgress(PrintWriter err, boolean enabled, IntSupplier width) {
    this.err = err;
    this.enabled = enabled;
    this.width = width;
  }

  /** Progress on {@code err} when {@code terminal} and not {@code json}. */
  public static TerminalProgress of(PrintWriter err, boolean terminal, boolean json) {
    // the library asks the terminal for its width (jline), only once a bar is shown
    return new TerminalProgress(
        err,
        terminal && !json,
        () -> new ConsoleProgressBarConsumer(System.err).getMaxRenderedLength());
  }

  /** Like {@link #of(PrintWriter, boolean, boolean)}, for a terminal {@code columns} wide. */
  public static TerminalProgress of(PrintWriter err, boolean terminal, boolean json, int columns) {
    return new TerminalProgress(err, terminal && !json, () -> columns);
  }

  @Override
  public synchronized void update(String what, long done, long total) {
    if (!enabled) {
      return;
    }
    long newMax = total > 0 ? total : -1;
    if (bar == null || !what.equals(task)) {
      close();
      task = what;
      max = newMax;
      bar =
          new ProgressBarBuilder()
              .setTaskName(what)
              .setInitialMax(newMax)
              .setStyle(ProgressBarStyle.ASCII)
              .setUpdateIntervalMillis(REFRESH_MILLIS)
              .showSpeed()
              .setConsumer(new Line(err, width.getAsInt()))
              .build();
    } else if (newMax != max) {
      max = newMax;
      bar.maxHint(newMax);
    }
    bar.stepTo(done);
  }

  /** Draws the final state and clears the line. */
  @Override
  public synchronized void done() {
    close();
  }

  private void close() {
    if (bar != null) {
      // close() draws the final state and waits for it; the library skips its own clearing when
      // the bar closes before its first scheduled draw, so the line is cleared here
      bar.close();
      bar = null;
      task = null;
      err.print(CLEAR_LINE);
      err.flush();
    }
  }

  /** The bar's line on {@code err}: a carriage return and the line, cut to the width. */
  private static final class Line implements ProgressBarConsumer {
    private final PrintWriter err;
    private final int width;

    Line(PrintWriter err, int width) {
      this.err = err;
      this.width = width;
    }

    @Override
    public int getMaxRenderedLength() {
      return width;
    }

    @Override
    public void accept(String rendered) {
      err.print('\r');
      err.print(rendered.length() > width ? rendered.substring(0, width) : rendered);
      err.flush();
    }

    @Override
    public void close() {
      err.flush();
    }
  }
}
