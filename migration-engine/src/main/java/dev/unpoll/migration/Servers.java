package dev.unpoll.migration;

import java.util.Map;

/**
 * The servers the options name, resolved as every command resolves them ({@code --db}, {@code
 * --user}, {@code --password-env} or the file's password or {@code PGPASSWORD}, {@code --kafka},
 * the file's {@code kafka.properties}), for a tool that opens its own clients ({@code unpoll
 * bench}). {@link #toString()} leaves out the password and the Kafka properties' values.
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

  @Override
  public String toString() {
    return "Servers[jdbcUrl="
        + jdbcUrl
        + ", user="
        + user
        + ", kafkaBootstrap="
        + kafkaBootstrap
        + ", kafkaProperties="
        + kafkaProperties.keySet()
        + "]";
  }
}
