package dev.unpoll.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where a drain's JVM CPU went, by thread group: the CPU time of every live Java thread, read
 * before and at the end of an arm, summed by what the thread does; on Linux also the JVM's own
 * garbage-collector and compiler threads, from {@code /proc/self/task} (the scheduler's
 * nanoseconds). Whatever the process spent that none of them accounts for (the VM thread, threads
 * that ended during the arm) is {@link #UNACCOUNTED}.
 */
final class ThreadCpu {
  static final String DECODE = "decode (Debezium's streaming thread)";
  static final String HANDLER = "engine + handler (batch threads)";
  static final String PRODUCER = "producer I/O";
  static final String BROKER = "broker (in this JVM)";
  static final String OTHER = "other Java threads";
  static final String GC = "GC";
  static final String JIT = "JIT";
  static final String UNACCOUNTED = "rest (VM, ended threads)";

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** One reading: CPU nanoseconds and name per live thread id, and the process's CPU. */
  record Sample(
      Map<Long, Long> cpu,
      Map<Long, String> names,
      Map<String, Long> vmNanos,
      double processSeconds) {}

  private ThreadCpu() {}

  static boolean supported() {
    return THREADS.isThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();
  }

  static Sample sample(double processSeconds) {
    Map<Long, Long> cpu = new HashMap<>();
    Map<Long, String> names = new HashMap<>();
    for (ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (t == null) {
        continue;
      }
      long nanos = THREADS.getThreadCpuTime(t.getThreadId());
      if (nanos >= 0) {
        cpu.put(t.getThreadId(), nanos);
        names.put(t.getThreadId(), t.getThreadName());
      }
    }
    return new Sample(cpu, names, vmNanos(), processSeconds);
  }

  /** CPU nanoseconds of the JVM's GC and JIT threads (Linux), by group; empty elsewhere. */
  private static Map<String, Long> vmNanos() {
    Map<String, Long> nanos = new HashMap<>();
    java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
    if (tasks == null) {
      return nanos;
    }
    for (java.io.File task : tasks) {
      try {
        String comm = java.nio.file.Files.readString(task.toPath().resolve("comm")).trim();
        String group =
            comm.startsWith("GC Thread") || comm.startsWith("G1 ")
                ? GC
                : comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler") ? JIT : null;
        long spent = group == null ? -1 : CpuAccounting.cpuNanos(task.toPath());
        if (spent >= 0) {
          nanos.merge(group, spent, Long::sum);
        }
      } catch (java.io.IOException | RuntimeException e) {
        // a thread that ended while read: not counted
      }
    }
    return nanos;
  }

  /** CPU seconds per group between two readings; a thread born in between counts from zero. */
  static Map<String, Double> between(Sample before, Sample after) {
    Map<String, Double> groups = new LinkedHashMap<>();
    for (String g : new String[] {DECODE, HANDLER, PRODUCER, BROKER, OTHER}) {
      groups.put(g, 0.0);
    }
    double accounted = 0;
    for (Map.Entry<Long, Long> e : after.cpu().entrySet()) {
      long spent = e.getValue() - before.cpu().getOrDefault(e.getKey(), 0L);
      if (spent <= 0) {
        continue;
      }
      double seconds = spent / 1e9;
      groups.merge(group(after.names().get(e.getKey())), seconds, Double::sum);
      accounted += seconds;
    }
    for (String g : new String[] {GC, JIT}) {
      double seconds =
          Math.max(0, after.vmNanos().getOrDefault(g, 0L) - before.vmNanos().getOrDefault(g, 0L))
              / 1e9;
      groups.put(g, seconds);
      accounted += seconds;
    }
    groups.put(
        UNACCOUNTED, Math.max(0, after.processSeconds() - before.processSeconds() - accounted));
    return groups;
  }

  /** The busiest threads of the {@link #OTHER} group between two readings, for the report. */
  static String busiestOthers(Sample before, Sample after, long rows, int n) {
    Map<String, Double> byName = new HashMap<>();
    for (Map.Entry<Long, Long> e : after.cpu().entrySet()) {
      String name = after.names().get(e.getKey());
      if (!OTHER.equals(group(name))) {
        continue;
      }
      long spent = e.getValue() - before.cpu().getOrDefault(e.getKey(), 0L);
      if (spent > 0) {
        byName.merge(name.replaceAll("\\d+", "N"), spent / 1e9, Double::sum);
      }
    }
    StringBuilder b = new StringBuilder();
    byName.entrySet().stream()
        .sorted((x, y) -> Double.compare(y.getValue(), x.getValue()))
        .limit(n)
        .forEach(
            e ->
                b.append(b.length() == 0 ? "" : ", ")
                    .append(e.getKey())
                    .append(' ')
                    .append(String.format(Locale.ROOT, "%.1f", e.getValue() * 1e6 / rows)));
    return b.append(" µs/row").toString();
  }

  static String group(String name) {
    String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
    if (n.contains("change-event-source-coordinator")) {
      return DECODE;
    }
    if (n.startsWith("kafka-producer-network-thread")) {
      return PRODUCER;
    }
    if (n.startsWith("pool-")
        || n.startsWith("unpoll-relay-")
        || n.startsWith("r1-stock-engine")
        || n.startsWith("debezium-")) {
      return HANDLER;
    }
    if (n.startsWith("data-plane-")
        || n.startsWith("kafka-")
        || n.startsWith("broker-")
        || n.startsWith("controller-")
        || n.contains("raft")
        || n.startsWith("executor-")
        || n.startsWith("logdirfailurehandler")
        || n.startsWith("group-coordinator")
        || n.startsWith("transactionalid")
        || n.startsWith("quotaspurger")
        || n.startsWith("expirationreaper")) {
      return BROKER;
    }
    return OTHER;
  }

  /** "decode 12.3, engine + handler 20.1, ..." in microseconds per row. */
  static String perRow(Map<String, Double> groups, long rows) {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, Double> e : groups.entrySet()) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(e.getKey())
          .append(' ')
          .append(String.format(Locale.ROOT, "%.1f", e.getValue() * 1e6 / rows));
    }
    return b.append(" µs/row").toString();
  }
}
