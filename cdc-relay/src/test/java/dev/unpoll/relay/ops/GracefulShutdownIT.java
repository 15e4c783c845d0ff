package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A child JVM receives a real SIGTERM ({@link Process#destroy()} on Linux). */
class GracefulShutdownIT {
  @TempDir Path dir;

  private Process startChild(String... args) throws IOException {
    Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>();
    command.add(java.toString());
    command.add("-Xmx64m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(ShutdownChild.class.getName());
    command.addAll(List.of(args));
    // Files, not pipes: destroy() closes the pipes of the child.
    return new ProcessBuilder(command)
        .redirectOutput(dir.resolve("stdout.txt").toFile())
        .redirectError(dir.resolve("stderr.txt").toFile())
        .start();
  }

  private String stdout() throws IOException {
    return Files.readString(dir.resolve("stdout.txt"));
  }

  private String stderr() throws IOException {
    return Files.readString(dir.resolve("stderr.txt"));
  }

  private void awaitReady(Process child) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> stdout().contains("READY") || !child.isAlive());
    assertThat(child.isAlive()).as("child alive after READY").isTrue();
  }

  @Test
  void sigtermRunsTheStopActionAndTheJvmExits() throws Exception {
    Process child = startChild();
    try {
      awaitReady(child);

      child.destroy();

      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(child.exitValue()).isEqualTo(143); // 128 + SIGTERM
      assertThat(stdout()).contains("STOP-ACTION-STARTED", "STOP-ACTION-FLUSHED");
      assertThat(stderr()).contains("shutdown signal received").contains("stopped cleanly");
    } finally {
      child.destroyForcibly();
    }
  }

  @Test
  void sigtermWithAHangingStopActionStillExitsAfterTheTimeout() throws Exception {
    Process child = startChild("hang");
    try {
      awaitReady(child);

      child.destroy();

      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(stdout()).contains("STOP-ACTION-STARTED");
      assertThat(stderr()).contains("did not finish within PT0.5S");
    } finally {
      child.destroyForcibly();
    }
  }
}
