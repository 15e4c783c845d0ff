package dev.unpoll.benchmarks;

import dev.unpoll.contract.config.JdbcUrl;
import java.util.Map;

/**
 * The user's own PostgreSQL and Kafka that {@code unpoll bench --db ... --kafka ...} runs on.
 * {@link #toString()} and {@link #where()} never show the password or the Kafka properties' values.
 *
 * @param jdbcUrl PostgreSQL JDBC URL, with its parameters (e.g. {@code sslmode})
 * @param user the database user
 * @param password the password, or null
 * @param kafkaBootstrap Kafka bootstrap servers
 * @param kafkaProperties Kafka client properties passed through (TLS, SASL, ...)
 */
public record BenchTarget(
    String jdbcUrl,
    String user,
    String password,
    String kafkaBootstrap,
    Map<String, String> kafkaProperties) {
  /** Copies the properties. */
  public BenchTarget {
    kafkaProperties = Map.copyOf(kafkaProperties);
  }

  /** {@code host:port/database}, as the JDBC URL names it. */
  public String database() {
    return JdbcUrl.parse(jdbcUrl)
        .map(u -> u.host() + ":" + u.port() + "/" + u.database())
        .orElse("the database");
  }

  /** Where it runs, for the output: the database, the user and the Kafka bootstrap servers. */
  public String where() {
    return "PostgreSQL " + database() + " as " + user + ", Kafka " + kafkaBootstrap;
  }

  @Override
  public String toString() {
    return "BenchTarget[" + where() + ", kafka properties " + kafkaProperties.keySet() + "]";
  }
}
