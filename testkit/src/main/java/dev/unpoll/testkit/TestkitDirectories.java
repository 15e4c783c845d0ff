package dev.unpoll.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;

/**
 * Where the testkit keeps binaries and data. {@code UNPOLL_TESTKIT_DIR} (or the system property
 * {@code unpoll.testkit.dir}) names it; otherwise {@code target/unpoll-testkit} when the working
 * directory is a Maven module, else {@code <tmp>/unpoll-testkit}.
 */
public final class TestkitDirectories {
  public static final String ENV = "UNPOLL_TESTKIT_DIR";
  public static final String PROPERTY = "unpoll.testkit.dir";

  private TestkitDirectories() {}

  public static Path base() {
    String configured = System.getProperty(PROPERTY, System.getenv(ENV));
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    Path target = Path.of("target").toAbsolutePath();
    if (Files.isDirectory(target)) {
      return target.resolve("unpoll-testkit");
    }
    return tmpBase();
  }

  static Path tmpBase() {
    return Path.of(System.getProperty("java.io.tmpdir"), "unpoll-testkit");
  }

  /** True if every existing ancestor of {@code dir} lets other users traverse it. */
  static boolean reachableByOthers(Path dir) {
    for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
      if (!Files.exists(p)) {
        continue;
      }
      try {
        if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
          return false;
        }
      } catch (java.io.IOException | UnsupportedOperationException e) {
        return false;
      }
    }
    return true;
  }
}
