package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.engine.Migrations;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unpoll grants}: the relay's least-privilege role as SQL, or with {@code --operator} the
 * migration operator's, for a superuser to run.
 */
@Command(
    name = "grants",
    description = {
      "Print the SQL that creates the least-privilege role the relay of --config runs as: LOGIN"
          + " REPLICATION, SELECT on the captured tables, the heartbeat table, a schema of its own"
          + " for its offsets and backlog ledger, and the publication when missing. Safe to run"
          + " again; the password is never in it (set it with psql's \\password).",
      "With --operator: the role that runs the migration commands (capture ... rollback): LOGIN"
          + " REPLICATION, CREATE on the database, the control schema, the heartbeat table and the"
          + " publication, and membership in each captured table's owner (looked up by the script"
          + " when it runs). Tables: the file's and --table.",
      "Nothing connects to a server. Docs: docs/security.md."
    },
    mixinStandardHelpOptions = true)
public final class GrantsCommand extends BaseCommand {
  @Option(
      names = "--role",
      paramLabel = "<name>",
      description =
          "The role (default: unpoll_relay; with --operator: unpoll_operator); set source.user"
              + " (the relay) or --user (the operator) to it.")
  String role;

  @Option(
      names = "--operator",
      description = "The migration operator's role instead of the relay's.")
  boolean operator;

  @Option(
      names = "--table",
      paramLabel = "<schema.table>",
      description = "With --operator: a table to migrate besides the file's (repeatable).")
  List<String> tables = new ArrayList<>();

  @Override
  public Integer call() {
    List<String> statements;
    String name;
    if (operator) {
      List<TableName> extra = new ArrayList<>();
      for (String t : tables) {
        extra.add(Migrations.table(t));
      }
      statements = engine().build().operatorGrants(role, extra);
      name = role == null ? Migrations.DEFAULT_OPERATOR_ROLE : role;
    } else {
      if (!tables.isEmpty()) {
        throw new CommandLine.ParameterException(
            spec.commandLine(),
            "--table is for --operator; the relay's role covers the tables of --config");
      }
      statements = engine().build().relayGrants(role);
      name = role == null ? RelayNames.DEFAULT_ROLE : role;
    }
    if (common.json) {
      ObjectNode root = JSON.createObjectNode();
      root.put("role", name);
      ArrayNode arr = root.putArray("statements");
      statements.forEach(arr::add);
      printJson(root);
    } else {
      for (String s : statements) {
        line(s);
      }
    }
    return ExitCode.OK.code();
  }
}
