package dev.unpoll.testkit;

import com.sun.security.auth.module.UnixSystem;
import dev.unpoll.testkit.internal.PgBinaries;
import dev.unpoll.testkit.internal.Processes;
import dev.unpoll.testkit.internal.RunDirectories;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server from the binaries zonky ships as a Maven artifact, configured for
 * logical decoding ({@code wal_level=logical}, pgoutput) and started in a fresh data directory.
 *
 * <p>The testkit starts the server itself instead of through zonky's launcher because PostgreSQL
 * refuses to run as root, and build machines and CI containers often are root: when this JVM runs
 * as root the server runs as an unprivileged OS user ({@code nobody} unless {@link
 * Builder#osUser(String)} says otherwise). Password authentication (SCRAM) is on, so a wrong
 * password fails as it would in production.
 *
 * <p>The server stops on {@link #close()} and, as a safety net, at JVM exit. A data directory left
 * by a killed JVM is found on the next start, its server stopped and the directory deleted.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  /** The settings every embedded server starts with; {@link Builder#setting} overrides them. */
  public static final Map<String, String> DEFAULT_SETTINGS =
      Map.ofEntries(
          Map.entry("wal_level", "logical"),
          Map.entry("max_replication_slots", "64"),
          Map.entry("max_wal_senders", "64"),
          // zonky's own launcher runs with synchronous_commit=off, which makes the walsender ship
          // WAL only when the WAL writer flushes (~200 ms): CDC latency tests need it on.
          Map.entry("synchronous_commit", "on"),
          // Durability of a throwaway test server is not the point; benchmarks turn fsync on.
          Map.entry("fsync", "off"),
          Map.entry("full_page_writes", "off"),
          Map.entry("max_connections", "200"),
          Map.entry("shared_buffers", "128MB"),
          Map.entry("listen_addresses", "127.0.0.1"),
          Map.entry("unix_socket_directories", ""),
          Map.entry("log_min_messages", "warning"),
          Map.entry("max_locks_per_transaction", "128"),
          // what a production server usually has: `unpoll analyze` reads the poller's own
          // statements from it (CREATE EXTENSION pg_stat_statements in the database)
          Map.entry("shared_preload_libraries", "pg_stat_statements"));

  static final String DIR_PREFIX = "postgres";
  public static final String SUPERUSER = "postgres";

  private final Path runDir;
  private volatile Process process;
  private final TestPostgres endpoint;
  private final Thread shutdownHook;
  private final List<String> command;
  private final Path log;
  private final Duration startTimeout;
  private volatile boolean closed;

  private EmbeddedPostgresServer(
      Path runDir,
      Process process,
      TestPostgres endpoint,
      List<String> command,
      Path log,
      Duration startTimeout) {
    this.runDir = runDir;
    this.process = process;
    this.endpoint = endpoint;
    this.command = List.copyOf(command);
    this.log = log;
    this.startTimeout = startTimeout;
    this.shutdownHook = new Thread(this::stopServer, "unpoll-testkit-postgres-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The {@code postgres} database of this server, as its superuser. */
  public TestPostgres postgres() {
    return endpoint;
  }

  /** The data directory's parent, where the server log {@code postgres.log} lives. */
  public Path runDirectory() {
    return runDir;
  }

  public long pid() {
    return process.pid();
  }

  /** How {@link #stopPostmaster} shuts the server down. */
  public enum Shutdown {
    /** SIGINT: PostgreSQL's fast shutdown; clients are disconnected, a checkpoint is written. */
    FAST("INT"),
    /** SIGQUIT: immediate shutdown, a crash as far as the data is concerned (recovery at start). */
    IMMEDIATE("QUIT");

    final String signal;

    Shutdown(String signal) {
      this.signal = signal;
    }
  }

  /**
   * Stops the postmaster and waits for it to exit; the data directory stays, and {@link
   * #startPostmaster()} brings the server back on the same port. For fault tests: clients see their
   * connections end as they do when a production server restarts or crashes.
   */
  public synchronized void stopPostmaster(Shutdown mode) {
    if (!Processes.stop(process.pid(), mode.signal, Duration.ofSeconds(30))) {
      throw new IllegalStateException("PostgreSQL pid " + process.pid() + " did not stop");
    }
  }

  /** Starts the postmaster again on the same data directory and port, after recovery if needed. */
  public synchronized void startPostmaster() {
    if (process.isAlive()) {
      throw new IllegalStateException("PostgreSQL pid " + process.pid() + " is running");
    }
    try {
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start PostgreSQL again in " + runDir, e);
    }
    Builder.awaitReady(process, endpoint, log, startTimeout);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    stopServer();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or has run
    }
  }

  private synchronized void stopServer() {
    if (closed) {
      return;
    }
    closed = true;
    endpoint.close();
    // SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients such as walsenders.
    if (!Processes.stop(process.pid(), "INT", Duration.ofSeconds(20))) {
      LOG.warn("PostgreSQL pid {} did not stop", process.pid());
    }
    RunDirectories.deleteRecursively(runDir);
  }

  /** Stops a server that a killed JVM left running in {@code dir}, found by its postmaster.pid. */
  static void stopLeftover(Path dir) {
    Path pidFile = dir.resolve("data/postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    try {
      long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
      boolean isPostgres = Processes.commandOf(pid).map(c -> c.endsWith("postgres")).orElse(false);
      if (isPostgres) {
        LOG.info("Stopping PostgreSQL pid {} left running in {}", pid, dir);
        Processes.stop(pid, "INT", Duration.ofSeconds(20));
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("Could not read {}: {}", pidFile, e.toString());
    }
  }

  @Override
  public String toString() {
    return "EmbeddedPostgresServer[pid=" + process.pid() + ", " + endpoint + "]";
  }

  /** Builds and starts an {@link EmbeddedPostgresServer}. */
  public static final class Builder {
    private Path baseDirectory = TestkitDirectories.base();
    private final Map<String, String> settings = new LinkedHashMap<>(DEFAULT_SETTINGS);
    private String osUser = "nobody";
    private int port;
    private Duration startTimeout = Duration.ofSeconds(60);

    private Builder() {}

    /**
     * Where binaries are unpacked and data directories live; default {@link
     * TestkitDirectories#base()}.
     */
    public Builder baseDirectory(Path dir) {
      this.baseDirectory = Objects.requireNonNull(dir);
      return this;
    }

    /** A server setting passed as {@code -c name=value}, overriding the defaults. */
    public Builder setting(String name, String value) {
      settings.put(Objects.requireNonNull(name), Objects.requireNonNull(value));
      return this;
    }

    /**
     * Server settings, each as {@link #setting(String, String)} (e.g. {@link
     * HeldCommit#SERVER_SETTINGS}).
     */
    public Builder settings(java.util.Map<String, String> settings) {
      settings.forEach(this::setting);
      return this;
    }

    /** The OS user the server runs as when this JVM is root (PostgreSQL refuses root). */
    public Builder osUser(String user) {
      this.osUser = Objects.requireNonNull(user);
      return this;
    }

    /** A fixed TCP port; default: a free one. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    public Builder startTimeout(Duration timeout) {
      this.startTimeout = Objects.requireNonNull(timeout);
      return this;
    }

    public EmbeddedPostgresServer start() {
      Path base = baseDirectory.toAbsolutePath();
      boolean root = new UnixSystem().getUid() == 0;
      if (root && !TestkitDirectories.reachableByOthers(base)) {
        Path fallback = TestkitDirectories.tmpBase();
        LOG.info(
            "{} is not reachable by OS user {} (PostgreSQL cannot run as root); using {}",
            base,
            osUser,
            fallback);
        base = fallback;
      }
      RunDirectories.cleanStale(base, DIR_PREFIX, EmbeddedPostgresServer::stopLeftover);
      Path binaries = PgBinaries.install(base);
      Path runDir = RunDirectories.create(base, DIR_PREFIX);
      List<String> asUser = root ? dropPrivileges(osUser, runDir) : List.of();
      String password = randomPassword();
      int serverPort = port > 0 ? port : freePort();
      try {
        Path pwFile = runDir.resolve("pwfile");
        Files.writeString(pwFile, password + "\n", StandardCharsets.US_ASCII);
        if (root) {
          chown(pwFile, osUser);
        }
        Path data = runDir.resolve("data");
        run(
            runDir,
            concat(
                asUser,
                List.of(
                    binaries.resolve("bin/initdb").toString(),
                    "-D",
                    data.toString(),
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    "--pwfile=" + pwFile,
                    "-E",
                    "UTF-8",
                    "--locale=C",
                    "--no-sync")));
        Files.delete(pwFile);
        List<String> command = new ArrayList<>(asUser);
        command.add(binaries.resolve("bin/postgres").toString());
        command.addAll(List.of("-D", data.toString(), "-p", Integer.toString(serverPort)));
        settings.forEach((k, v) -> command.addAll(List.of("-c", k + "=" + v)));
        Path log = runDir.resolve("postgres.log");
        Process process =
            new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        TestPostgres endpoint =
            new TestPostgres("127.0.0.1", serverPort, "postgres", SUPERUSER, password, null);
        EmbeddedPostgresServer server =
            new EmbeddedPostgresServer(runDir, process, endpoint, command, log, startTimeout);
        try {
          awaitReady(process, endpoint, log, startTimeout);
        } catch (RuntimeException e) {
          server.close();
          throw e;
        }
        LOG.info(
            "PostgreSQL started: {} (pid {}, data {})", endpoint.jdbcUrl(), process.pid(), data);
        return server;
      } catch (IOException e) {
        RunDirectories.deleteRecursively(runDir);
        throw new UncheckedIOException("cannot start PostgreSQL in " + runDir, e);
      }
    }

    static void awaitReady(
        Process process, TestPostgres endpoint, Path log, Duration startTimeout) {
      long deadline = System.nanoTime() + startTimeout.toNanos();
      SQLException last = null;
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "PostgreSQL exited with code " + process.exitValue() + ": " + tail(log));
        }
        try (Connection c =
            DriverManager.getConnection(endpoint.jdbcUrl(), endpoint.user(), endpoint.password())) {
          return;
        } catch (SQLException e) {
          last = e;
        }
        sleep(50);
      }
      throw new IllegalStateException(
          "PostgreSQL did not accept connections within "
              + startTimeout
              + " ("
              + (last == null ? "" : last.getMessage())
              + "): "
              + tail(log));
    }
  }

  private static List<String> dropPrivileges(String user, Path runDir) {
    chown(runDir, user);
    String gid = capture(List.of("id", "-g", user)).trim();
    return List.of("setpriv", "--reuid=" + user, "--regid=" + gid, "--clear-groups", "--");
  }

  private static void chown(Path path, String user) {
    try {
      UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
      Files.setOwner(path, users.lookupPrincipalByName(user));
      if (Files.isDirectory(path)) {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
      } else {
        Files.setPosixFilePermissions(
            path,
            java.util.EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot hand " + path + " to OS user " + user + " (set it with osUser(...))", e);
    }
  }

  private static void run(Path dir, List<String> command) {
    Path out = dir.resolve("initdb.log");
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + String.join(" ", command));
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("initdb failed (exit " + p.exitValue() + "): " + tail(out));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static String capture(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "(no log at " + log + ")";
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on loopback", e);
    }
  }

  private static String randomPassword() {
    byte[] bytes = new byte[12];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis); // polling a server that has no readiness callback
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
    }
  }
}
