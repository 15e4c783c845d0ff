package dev.unpoll.cli.internal;

import dev.unpoll.migration.engine.Migrations;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Connection and output options shared by every command that talks to a server. */
public final class CommonOptions {
  @Option(
      names = "--db",
      paramLabel = "<jdbc-url>",
      description = "PostgreSQL JDBC URL, e.g. jdbc:postgresql://localhost:5432/orders.")
  public String db;

  @Option(names = "--user", paramLabel = "<user>", description = "Database user.")
  public String user;

  @Option(
      names = "--password-env",
      paramLabel = "<VAR>",
      description =
          "Environment variable holding the database password (default: the config file's"
              + " password, else PGPASSWORD). Passwords are never accepted on the command line.")
  public String passwordEnv;

  @Option(
      names = "--kafka",
      paramLabel = "<bootstrap>",
      description = "Kafka bootstrap servers, e.g. localhost:9092.")
  public String kafka;

  @Option(
      names = "--config",
      paramLabel = "<unpoll.yaml>",
      description =
          "The relay's configuration file; its source and kafka sections are read."
              + " Options given here override it.")
  public Path config;

  @Option(names = "--json", description = "Print the result as one JSON document on stdout.")
  public boolean json;

  @Option(
      names = {"-v", "--verbose"},
      description = "Show stack traces of errors.")
  public boolean verbose;

  /** The engine's builder with these connection options and {@code environment}. */
  public Migrations.Builder engine(Map<String, String> environment) {
    return Migrations.builder()
        .jdbcUrl(db)
        .user(user)
        .passwordEnv(passwordEnv)
        .kafkaBootstrap(kafka)
        .configFile(config)
        .environment(environment);
  }
}
