package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.DurationConverter;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.migration.engine.TablePlan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll plan --table T [--out unpoll.yaml]}: writes the table's mapping into the file. */
@Command(
    name = "plan",
    description = {
      "Analyze the table and write its mapping under tables: in the relay's configuration file:"
          + " an existing entry of the same table is replaced, otherwise one is added; every other"
          + " line, comments included, stays as it was.",
      "Exit 3 when the table is not ready (see analyze)."
    },
    mixinStandardHelpOptions = true)
public final class PlanCommand extends BaseCommand {
  /** The file written when neither --out nor --config is given. */
  public static final String DEFAULT_FILE = "unpoll.yaml";

  @Option(
      names = "--table",
      required = true,
      paramLabel = "<schema.table>",
      description = "The table.")
  String table;

  @Option(
      names = "--out",
      paramLabel = "<file>",
      description = "The file to write (default: the --config file, else " + DEFAULT_FILE + ").")
  Path out;

  @Option(names = "--topic", paramLabel = "<topic>", description = "Topic (default schema.table).")
  String topic;

  @Option(
      names = "--observe",
      paramLabel = "<duration>",
      converter = DurationConverter.class,
      description =
          "Watch the rows for this long first and learn the status roles from how the values"
              + " move, as analyze --observe does (off by default).")
  Duration observe;

  @Override
  public Integer call() {
    TableName t = Migrations.table(table);
    Path file = out != null ? out : common.config != null ? common.config : Path.of(DEFAULT_FILE);
    Migrations migrations = engine().build();
    TablePlan plan = Observing.plan(migrations, t, topic, observe, common.json ? null : err());
    if (!plan.ready()) {
      err().println("unpoll plan: " + t.display() + " is not ready: " + plan.notes().get(0));
      return ExitCode.CHECK_FAILED.code();
    }
    String before;
    try {
      before = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new MigrationException("cannot read " + file + ": " + e.getMessage(), e);
    }
    boolean newFile = before.isBlank();
    if (newFile) {
      // a file that runs as written: source and kafka from the options, the secret as ${VAR}
      before = migrations.newConfigFile(common.passwordEnv);
    }
    TablePlan.Merged result = plan.merge(before);
    try {
      Path abs = file.toAbsolutePath();
      Path tmp = Files.createTempFile(abs.getParent(), ".unpoll-plan", ".yaml");
      Files.writeString(tmp, result.text(), StandardCharsets.UTF_8);
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new MigrationException("cannot write " + file + ": " + e.getMessage(), e);
    }
    if (common.json) {
      ObjectNode n = JSON.createObjectNode();
      n.put("table", t.display());
      n.put("file", file.toString());
      n.put("replaced", result.replaced());
      n.put("verdict", plan.verdict());
      n.set("mapping", readJson(plan.mappingJson()));
      printJson(n);
    } else {
      if (newFile) {
        line("wrote " + file + " with source and kafka from the options (password: ${VAR})");
      }
      line(
          (result.replaced() ? "replaced" : "added")
              + " the mapping of "
              + t.display()
              + " in "
              + file
              + " (topic "
              + plan.topic()
              + ")");
      for (String note : plan.notes()) {
        line("  - " + note);
      }
      line(
          "next: review it, then `unpoll capture --table "
              + t.display()
              + " --config "
              + file
              + "`");
    }
    return ExitCode.OK.code();
  }
}
