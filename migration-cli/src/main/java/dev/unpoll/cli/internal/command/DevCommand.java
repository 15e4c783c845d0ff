package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code unpoll dev}: a local sandbox. */
@Command(
    name = "dev",
    mixinStandardHelpOptions = true,
    description = "Local sandbox commands.",
    subcommands = {DevCommand.Up.class})
public final class DevCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(), "a dev command is required: unpoll dev up");
  }

  /** {@code unpoll dev up}. */
  @Command(
      name = "up",
      mixinStandardHelpOptions = true,
      description = {
        "Start a PostgreSQL 17 with logical decoding and a Kafka broker on this machine (no"
            + " Docker), print how to connect (--json: jdbcUrl, user, password, bootstrapServers),"
            + " run until interrupted (Ctrl-C), then stop both and delete their data.",
        "The password is a random one for this sandbox only."
      })
  public static final class Up extends BaseCommand {
    @Option(
        names = "--dir",
        paramLabel = "<dir>",
        description = "Where binaries and data live (default: <tmp>/unpoll-dev).")
    Path dir;

    @Override
    public Integer call() {
      Path base = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"), "unpoll-dev");
      EmbeddedPostgresServer pg = null;
      EmbeddedKafkaBroker kafka = null;
      boolean interrupted = false;
      try {
        if (!common.json) {
          err().println("starting PostgreSQL and Kafka in " + base + " ...");
          err().flush();
        }
        // Kafka's storage formatter prints to System.out; stdout is for the settings (--json).
        java.io.PrintStream stdout = System.out;
        System.setOut(System.err);
        try {
          pg = EmbeddedPostgresServer.builder().baseDirectory(base).start();
          kafka = EmbeddedKafkaBroker.builder().baseDirectory(base).start();
        } catch (RuntimeException e) {
          throw new MigrationException("cannot start the sandbox: " + e.getMessage(), e);
        } finally {
          System.setOut(stdout);
        }
        TestPostgres db = pg.postgres();
        TestKafka k = kafka.kafka();
        if (common.json) {
          ObjectNode n = JSON.createObjectNode();
          n.put("jdbcUrl", db.jdbcUrl());
          n.put("user", db.user());
          n.put("password", db.password());
          n.put("bootstrapServers", k.bootstrapServers());
          out().println(n.toString());
        } else {
          line("PostgreSQL " + db.jdbcUrl() + "  user " + db.user());
          line("Kafka      " + k.bootstrapServers());
          line("");
          line("export PGPASSWORD='" + db.password() + "'");
          line(
              "./unpoll doctor --db "
                  + db.jdbcUrl()
                  + " --user "
                  + db.user()
                  + " --kafka "
                  + k.bootstrapServers());
          line("");
          line("Ctrl-C stops both servers and deletes their data.");
        }
        out().flush();
        new CountDownLatch(1).await();
        return ExitCode.OK.code();
      } catch (InterruptedException e) {
        interrupted = true;
        return ExitCode.OK.code();
      } finally {
        // Close with the interrupt flag clear: an interrupted close leaves the broker half-stopped
        // (and Kafka may then halt the JVM). The flag is restored afterwards.
        interrupted |= Thread.interrupted();
        if (kafka != null) {
          kafka.close();
        }
        if (pg != null) {
          pg.close();
        }
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
        if (!common.json) {
          err().println("sandbox stopped");
          err().flush();
        }
      }
    }
  }
}
