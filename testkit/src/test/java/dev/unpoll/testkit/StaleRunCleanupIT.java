package dev.unpoll.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.testkit.internal.Processes;
import dev.unpoll.testkit.internal.RunDirectories;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A data directory left by a killed JVM is found on the next start and its server stopped. */
class StaleRunCleanupIT {
  @TempDir Path base;

  @Test
  void serverLeftByADeadOwnerIsStoppedAndItsDirectoryDeleted() throws Exception {
    EmbeddedPostgresServer server = EmbeddedPostgresServer.builder().baseDirectory(base).start();
    long postmaster = server.pid();
    Path runDir = server.runDirectory();
    // Pretend the JVM that started it was SIGKILLed: its owner file names a PID that is gone.
    Files.writeString(
        runDir.resolve("unpoll-owner.pid"), Long.toString(deadPid()), StandardCharsets.US_ASCII);

    // The server may live elsewhere than `base` (a root JVM moves it where its OS user can reach).
    RunDirectories.cleanStale(runDir.getParent(), "postgres", EmbeddedPostgresServer::stopLeftover);

    assertThat(Processes.isAlive(postmaster)).as("leftover postmaster stopped").isFalse();
    assertThat(runDir).doesNotExist();
    server.close(); // nothing left to stop; must not throw
  }

  @Test
  void directoriesOfLiveOwnersAreKept() throws Exception {
    Path mine = RunDirectories.create(base, "kafka");
    // what another test JVM's create() has made, a moment before it writes its owner file
    Path creating =
        Files.createDirectories(base.resolve("kafka-" + ProcessHandle.current().pid() + "-7"));
    Path orphan = Files.createDirectories(base.resolve("kafka-0-orphan"));
    Path diedCreating = Files.createDirectories(base.resolve("kafka-" + deadPid() + "-8"));
    AtomicInteger stopped = new AtomicInteger();

    RunDirectories.cleanStale(base, "kafka", dir -> stopped.incrementAndGet());

    assertThat(mine).exists();
    assertThat(creating).as("a live JVM's directory without its owner file yet").exists();
    assertThat(orphan).doesNotExist();
    assertThat(diedCreating).doesNotExist();
    assertThat(stopped).hasValue(2);
  }

  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }
}
