package dev.unpoll.testkit.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Small process helpers: liveness by PID and POSIX signals, which {@link Process} lacks. */
public final class Processes {
  private Processes() {}

  /** True if the process runs; an exited child not yet reaped (a zombie) counts as gone. */
  public static boolean isAlive(long pid) {
    if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      int end = stat.lastIndexOf(')');
      return end < 0 || end + 2 >= stat.length() || stat.charAt(end + 2) != 'Z';
    } catch (IOException e) {
      return !Files.isDirectory(Path.of("/proc")); // no procfs: trust ProcessHandle
    }
  }

  /** The command line of a live process, if the OS tells it. */
  public static Optional<String> commandOf(long pid) {
    return ProcessHandle.of(pid).flatMap(h -> h.info().command());
  }

  /** Sends a signal by name ({@code INT}, {@code TERM}, {@code KILL}) with the system's kill. */
  public static void signal(long pid, String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-s", signal, Long.toString(pid))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      kill.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill -s " + signal + " " + pid, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Sends {@code signal}, waits up to {@code grace} for the process to exit, then kills it.
   *
   * @return true if the process is gone
   */
  public static boolean stop(long pid, String signal, Duration grace) {
    if (!isAlive(pid)) {
      return true;
    }
    signal(pid, signal);
    long deadline = System.nanoTime() + grace.toNanos();
    while (System.nanoTime() < deadline) {
      if (!isAlive(pid)) {
        return true;
      }
      try {
        Thread.sleep(20); // polling a foreign PID: there is nothing to wait on
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    signal(pid, "KILL");
    return !isAlive(pid);
  }
}
