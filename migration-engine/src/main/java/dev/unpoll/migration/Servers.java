package dev.unpoll.migration;

import dev.unpoll.contract.config.JdbcUrl;
import java.util.Map;

/**
 * The servers the options name, resolved as every command resolves them ({@code --db}, {@code
 * --user}, {@code --password-env} or the file's password or {@code PGPASSWORD}, {@code --kafka},
 * the file's {@code kafka.properties}), for a tool that opens its own clients ({@code unpoll
 * bench}, which also runs on servers it starts and names them the same way). {@link #toString()}
 * and {@link #where()} never show the password, the URL's parameters or the Kafka properties'
 * values.
 *
 * @param jdbcUrl the PostgreSQL JDBC URL (with its parameters, e.g. {@code sslmode})
 * @param user the database user, or null when none is given
 * @param password the password, or null when none is given
 * @param kafkaBootstrap the Kafka bootstrap servers
 * @param kafkaProperties Kafka client properties passed through (TLS, SASL, ...)
 */
public record Servers(
    String jdbcUrl,
    String user,
    String password,
    String kafkaBootstrap,
    Map<String, String> kafkaProperties) {
  /** Copies the properties. */
  public Servers {
    kafkaProperties = Map.copyOf(kafkaProperties);
  }

  /** {@code host:port/database}, as the JDBC URL names it. */
  public String database() {
    return JdbcUrl.parse(jdbcUrl)
        .map(u -> u.host() + ":" + u.port() + "/" + u.database())
        .orElse("the database");
  }

  /** Where they run, for output: the database, the user and the Kafka bootstrap servers. */
  public String where() {
    return "PostgreSQL " + database() + " as " + user + ", Kafka " + kafkaBootstrap;
  }

  @Override
  public String toString() {
    return "Servers[" + where() + ", kafka properties " + kafkaProperties.keySet() + "]";
  }
}
