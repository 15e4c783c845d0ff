package dev.unpoll.relay;

import dev.unpoll.contract.config.ConfigException;
import dev.unpoll.contract.config.UnpollConfig;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The relay's entry point: {@code java dev.unpoll.relay.RelayMain --config unpoll.yaml}, run by the
 * CLI as {@code unpoll relay}. Blocks until SIGTERM (or SIGINT), then stops gracefully.
 *
 * <p>Exit codes: {@value #EXIT_OK} clean stop, {@value #EXIT_FAILURE} other failure, {@value
 * #EXIT_CONFIG} bad configuration, {@value #EXIT_SLOT} slot or publication problem.
 */
public final class RelayMain {

  /** Clean stop. */
  public static final int EXIT_OK = 0;

  /** The relay failed (engine error, Kafka unreachable past the delivery timeout, ...). */
  public static final int EXIT_FAILURE = 1;

  /** The configuration is invalid; every problem is printed. */
  public static final int EXIT_CONFIG = 2;

  /**
   * The slot is missing or invalidated, the publication lacks a captured table, or the slot holds a
   * change it cannot decode because its publication did not exist then.
   */
  public static final int EXIT_SLOT = 3;

  private RelayMain() {}

  /** Runs the relay and exits the JVM with its exit code. */
  public static void main(String[] args) {
    Path config = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        config = Path.of(args[++i]);
      } else if (args[i].startsWith("--config=")) {
        config = Path.of(args[i].substring("--config=".length()));
      } else {
        System.err.println("unknown argument: " + args[i]);
        config = null;
        break;
      }
    }
    if (config == null) {
      System.err.println("usage: RelayMain --config <unpoll.yaml>");
      System.exit(EXIT_CONFIG);
    }
    System.exit(run(config, System.err, true));
  }

  /**
   * Loads {@code config}, runs the relay until the JVM is asked to stop (SIGTERM, SIGINT) or the
   * relay fails, and returns the exit code. Problems are printed to {@code err}.
   */
  public static int run(Path config, PrintStream err) {
    return run(config, err, false);
  }

  /**
   * Like {@link #run(Path, PrintStream)}; with {@code exitOnSignal} (the standalone process) a
   * SIGTERM ends the JVM with 0 after the graceful stop (1 if the relay had failed), instead of the
   * JVM's signal status 143.
   */
  public static int run(Path config, PrintStream err, boolean exitOnSignal) {
    UnpollConfig cfg;
    try {
      cfg = UnpollConfig.load(config);
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return EXIT_CONFIG;
    }
    RelayRunner runner = RelayRunner.of(cfg);
    Thread hook =
        new Thread(
            () -> {
              runner.close();
              if (exitOnSignal) {
                err.flush();
                Runtime.getRuntime().halt(runner.failure().isPresent() ? EXIT_FAILURE : EXIT_OK);
              }
            },
            "unpoll-relay-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    int exit;
    try {
      exit = runner.run();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the JVM is stopping: the hook closes the runner
      }
      runner.close();
    }
    runner.failure().ifPresent(err::println);
    return exit;
  }
}
