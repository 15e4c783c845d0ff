package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.RelayNames;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll grants}: the relay's least-privilege role as SQL, for a superuser to run. */
@Command(
    name = "grants",
    description = {
      "Print the SQL that creates the least-privilege role the relay of --config runs as: LOGIN"
          + " REPLICATION, SELECT on the captured tables, the heartbeat table, a schema of its own"
          + " for its offsets and backlog ledger, and the publication when missing. Safe to run"
          + " again; the password is never in it (set it with psql's \\password).",
      "Nothing connects to a server. Docs: docs/security.md."
    },
    mixinStandardHelpOptions = true)
public final class GrantsCommand extends BaseCommand {
  @Option(
      names = "--role",
      paramLabel = "<name>",
      description = "The relay's role (default: unpoll_relay); set source.user to it.")
  String role;

  @Override
  public Integer call() {
    List<String> statements = engine().build().relayGrants(role);
    if (common.json) {
      ObjectNode root = JSON.createObjectNode();
      root.put("role", role == null ? RelayNames.DEFAULT_ROLE : role);
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
