package dev.unpoll.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * How much CPU the rest of the machine used while a round ran: all CPU time of the machine ({@code
 * /proc/stat}) minus that of this JVM (harness, consumers and the Kafka broker) and of the
 * PostgreSQL server's processes. Reported per round so that a reader can see whether neighbours
 * competed for the cores. Linux only; elsewhere every figure is NaN.
 */
final class CpuAccounting {
  private final long postmasterPid;

  CpuAccounting(long postmasterPid) {
    this.postmasterPid = postmasterPid;
  }

  /** CPU counters now, in clock ticks. */
  Snapshot snapshot() {
    try {
      String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = cpu.trim().split("\\s+");
      long total = 0;
      // user nice system idle iowait irq softirq steal (guest time is already inside user)
      for (int i = 1; i <= 8 && i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      long ours = ticks(ProcessHandle.current().pid()) + postgresTicks();
      return new Snapshot(total, total - idle, ours);
    } catch (IOException | RuntimeException e) {
      return new Snapshot(-1, -1, -1);
    }
  }

  /** Cores' worth of CPU used by other processes between two snapshots. */
  static double othersCores(Snapshot from, Snapshot to) {
    if (from.total < 0 || to.total < 0 || to.total == from.total) {
      return Double.NaN;
    }
    int cpus = Runtime.getRuntime().availableProcessors();
    double others = (to.busy - from.busy) - (to.ours - from.ours);
    return Math.max(0, others) / (to.total - from.total) * cpus;
  }

  private long postgresTicks() throws IOException {
    return postgresTicks(postmasterPid);
  }

  /**
   * CPU ticks of a PostgreSQL server: its postmaster, the children that ended and those that run; 0
   * where /proc cannot be read.
   */
  static long postgresTicksOf(long postmasterPid) {
    try {
      return postgresTicks(postmasterPid);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static long postgresTicks(long postmasterPid) throws IOException {
    // the postmaster's own time plus that of its ended children (backends that closed)
    String[] postmaster = stat(Path.of("/proc", Long.toString(postmasterPid)));
    if (postmaster == null) {
      return 0;
    }
    long sum = 0;
    for (int i = 11; i <= 14; i++) {
      sum += Long.parseLong(postmaster[i]);
    }
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      List<Path> pids =
          procs
              .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
              .toList();
      for (Path p : pids) {
        String[] stat = stat(p);
        if (stat != null && Long.parseLong(stat[1]) == postmasterPid) {
          sum += Long.parseLong(stat[11]) + Long.parseLong(stat[12]);
        }
      }
    }
    return sum;
  }

  /** Nanoseconds per clock tick of /proc/PID/stat (USER_HZ = 100 on Linux). */
  static final long NANOS_PER_TICK = 10_000_000L;

  /**
   * CPU time of a running process in nanoseconds, from {@code /proc/PID/schedstat} (the scheduler's
   * nanosecond clock) where the kernel has it, else from {@code stat}'s utime + stime in 10 ms
   * ticks; -1 once the process has ended. Tick counts cannot resolve an idle server's few
   * milliseconds per second in a window of seconds: D1's idle measure needs the nanoseconds.
   */
  static long cpuNanos(Path proc) {
    try {
      String s = Files.readString(proc.resolve("schedstat")).trim();
      int space = s.indexOf(' ');
      return Long.parseLong(space < 0 ? s : s.substring(0, space));
    } catch (IOException | RuntimeException e) {
      String[] stat = stat(proc);
      return stat == null
          ? -1
          : (Long.parseLong(stat[11]) + Long.parseLong(stat[12])) * NANOS_PER_TICK;
    }
  }

  /**
   * CPU time in nanoseconds of the postmaster's children that ended (it reaps them): only kept in
   * ticks by the kernel.
   */
  static long endedChildrenNanos(Path postmaster) {
    String[] stat = stat(postmaster);
    return stat == null
        ? 0
        : (Long.parseLong(stat[13]) + Long.parseLong(stat[14])) * NANOS_PER_TICK;
  }

  /** The parent pid of a running process, or -1. */
  static long parent(Path proc) {
    String[] stat = stat(proc);
    return stat == null ? -1 : Long.parseLong(stat[1]);
  }

  private static long ticks(long pid) {
    String[] stat = stat(Path.of("/proc", Long.toString(pid)));
    return stat == null ? 0 : Long.parseLong(stat[11]) + Long.parseLong(stat[12]);
  }

  /**
   * Fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime,
   * [13] cutime, [14] cstime.
   */
  private static String[] stat(Path proc) {
    try {
      String s = Files.readString(proc.resolve("stat"));
      return s.substring(s.lastIndexOf(')') + 2).split(" ");
    } catch (IOException | RuntimeException e) {
      return null; // the process ended meanwhile
    }
  }

  record Snapshot(long total, long busy, long ours) {}
}
