package dev.unpoll.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-run working directories under a shared base directory, each tagged with the PID of the JVM
 * that owns it. A directory whose owner is gone is stale (the JVM was killed): {@link #cleanStale}
 * lets the caller stop what may still run from it, then deletes it. Directories of live JVMs, such
 * as a parallel build's, are never touched.
 */
public final class RunDirectories {
  private static final Logger LOG = LoggerFactory.getLogger(RunDirectories.class);
  static final String OWNER_FILE = "unpoll-owner.pid";

  private RunDirectories() {}

  /** Creates {@code base/prefix-<pid>-<n>} owned by this JVM. */
  public static Path create(Path base, String prefix) {
    try {
      Files.createDirectories(base);
      Path dir =
          Files.createTempDirectory(base, prefix + "-" + ProcessHandle.current().pid() + "-");
      Files.writeString(
          dir.resolve(OWNER_FILE),
          Long.toString(ProcessHandle.current().pid()),
          StandardCharsets.US_ASCII);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a run directory under " + base, e);
    }
  }

  /**
   * Deletes every {@code prefix-*} directory under {@code base} whose owning JVM no longer runs,
   * after handing it to {@code beforeDelete} (for example to stop a server left running in it).
   */
  public static void cleanStale(Path base, String prefix, Consumer<Path> beforeDelete) {
    if (!Files.isDirectory(base)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(base)) {
      dirs.filter(d -> d.getFileName().toString().startsWith(prefix + "-"))
          .filter(Files::isDirectory)
          .filter(d -> isStale(d, prefix))
          .forEach(
              dir -> {
                LOG.info("Cleaning up {} left by a run that did not shut down", dir);
                try {
                  beforeDelete.accept(dir);
                } finally {
                  deleteRecursively(dir);
                }
              });
    } catch (IOException e) {
      LOG.warn("Could not scan {} for stale run directories: {}", base, e.toString());
    }
  }

  static boolean isStale(Path dir, String prefix) {
    Path owner = dir.resolve(OWNER_FILE);
    if (!Files.exists(owner)) {
      // between create()'s mkdir and its owner file (another test JVM of a parallel build may be
      // there right now), or a run that died in that gap: the name carries the creator's PID
      Long creator = pidInName(dir, prefix);
      return creator == null || !Processes.isAlive(creator);
    }
    try {
      long pid = Long.parseLong(Files.readString(owner, StandardCharsets.US_ASCII).trim());
      return !Processes.isAlive(pid);
    } catch (IOException | NumberFormatException e) {
      return true;
    }
  }

  /** The PID in {@code prefix-<pid>-<n>}, as {@link #create} names a directory, or null. */
  private static Long pidInName(Path dir, String prefix) {
    String rest = dir.getFileName().toString().substring(prefix.length() + 1);
    int dash = rest.indexOf('-');
    try {
      return Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Deletes a directory tree; failures are logged, never thrown (best effort on shutdown). */
  public static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.warn("Could not delete {}: {}", dir, e.toString());
    }
  }
}
