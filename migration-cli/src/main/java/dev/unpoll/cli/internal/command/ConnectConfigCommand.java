package dev.unpoll.cli.internal.command;

import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.ConfigException;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.relay.ConnectorConfig;
import dev.unpoll.relay.RelayConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unpoll connect-config}: the Debezium connector configuration for Kafka Connect, with
 * unpoll's transformation configured from the same {@code unpoll.yaml} as the relay.
 */
@Command(
    name = "connect-config",
    description = {
      "Print the configuration of Debezium's PostgreSQL connector on Kafka Connect with unpoll's"
          + " transformation, from --config: slot, publication, heartbeat and backlog snapshot as"
          + " the relay sets them, the tables and outbox sections as the transformation's mapping."
          + " The JSON is the body of PUT /connectors/<name>/config. The password is"
          + " $${env:UNPOLL_DB_PASSWORD}, read by the worker's env config provider, never the"
          + " secret.",
      "Nothing connects to a server. Docs: docs/kafka-connect.md."
    },
    mixinStandardHelpOptions = true)
public final class ConnectConfigCommand extends BaseCommand {
  @Option(
      names = "--table",
      paramLabel = "<schema.table>",
      description = "Capture only this mapped table (and the outbox, if enabled).")
  String table;

  @Option(
      names = "--name",
      paramLabel = "<connector>",
      description = "The connector's name (default: unpoll-<source.slot>).")
  String name;

  @Override
  public Integer call() {
    if (common.config == null) {
      throw MigrationException.usage(
          "connect-config needs --config <unpoll.yaml> (docs/kafka-connect.md)");
    }
    String text;
    try {
      text = Files.readString(common.config);
    } catch (NoSuchFileException e) {
      throw MigrationException.usage("config file " + common.config + " does not exist");
    } catch (IOException e) {
      throw MigrationException.usage("cannot read config file " + common.config + ": " + e);
    }
    Optional<TableName> only;
    try {
      only = table == null ? Optional.empty() : Optional.of(TableName.parse(table));
    } catch (IllegalArgumentException e) {
      throw MigrationException.usage("--table: " + e.getMessage());
    }
    UnpollConfig config;
    String mapping;
    try {
      config = UnpollConfig.parse(text, env());
      mapping = ConnectorConfig.mappingYaml(text, only);
    } catch (ConfigException | RelayConfigException e) {
      throw MigrationException.usage(e.getMessage());
    }
    if (only.isPresent()) {
      config =
          new UnpollConfig(
              config.source(),
              config.kafka(),
              config.offsets(),
              config.outbox(),
              config.tables().stream().filter(m -> m.table().equals(only.get())).toList(),
              config.http(),
              config.ha(),
              config.monitoring());
    }
    String connector = name == null ? ConnectorConfig.defaultName(config) : name;
    out().println(ConnectorConfig.json(ConnectorConfig.of(config, mapping, connector)));
    out().flush();
    return ExitCode.OK.code();
  }
}
