package dev.unpoll.testkit;

import dev.unpoll.testkit.internal.Processes;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A main class run in its own JVM with the caller's class path, so that SIGKILL and SIGSTOP hit a
 * real process (its sockets, its unflushed buffers and its locks die or freeze with it), and so
 * that its memory is its own (the benchmarks read its RSS). Used by the fault-injection harness and
 * the benchmarks.
 */
public final class ChildJvm implements AutoCloseable {
  private final String name;
  private final Process process;

  private ChildJvm(String name, Process process) {
    this.name = name;
    this.process = process;
  }

  public static ChildJvm start(
      String name, Class<?> main, List<String> args, Map<String, String> env, Path log)
      throws IOException {
    return start(name, main, "256m", args, env, log);
  }

  public static ChildJvm start(
      String name,
      Class<?> main,
      String maxHeap,
      List<String> args,
      Map<String, String> env,
      Path log)
      throws IOException {
    return start(name, main, List.of("-Xmx" + maxHeap), args, env, log);
  }

  /** With these JVM options (heap, system properties) before the main class. */
  public static ChildJvm start(
      String name,
      Class<?> main,
      List<String> jvmOptions,
      List<String> args,
      Map<String, String> env,
      Path log)
      throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", cp, main.getName()));
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new ChildJvm(name, pb.start());
  }

  /** Writes one line to the process's standard input. */
  public void send(String line) throws IOException {
    process
        .getOutputStream()
        .write((line + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    process.getOutputStream().flush();
  }

  public long pid() {
    return process.pid();
  }

  public int exitCode() {
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL, and waits until the process is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " (pid " + pid() + ") survived SIGKILL for 30 s");
    }
  }

  /** SIGSTOP: the process freezes, its connections stay open. */
  public void freeze() {
    Processes.signal(pid(), "STOP");
  }

  /** SIGCONT. */
  public void thaw() {
    Processes.signal(pid(), "CONT");
  }

  /** SIGTERM, then SIGKILL after {@code grace}; returns the exit code. */
  public int stop(Duration grace) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      thaw();
      kill();
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + ")";
  }
}
