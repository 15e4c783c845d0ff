package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a command connects to: the command-line options over the configuration file. The password is
 * held here and nowhere else; {@link #toString()} masks it.
 *
 * @param jdbcUrl PostgreSQL JDBC URL, or null when neither flag nor file names one
 * @param user database user, or null
 * @param password database password, or null (trust / .pgpass authentication)
 * @param kafkaBootstrap Kafka bootstrap servers, or null
 * @param kafkaProperties pass-through client properties from {@code kafka.properties}
 * @param slot the relay's replication slot
 * @param publication the relay's publication
 * @param config the configuration file, if one was given
 */
public record Settings(
    String jdbcUrl,
    String user,
    String password,
    String kafkaBootstrap,
    Map<String, String> kafkaProperties,
    String slot,
    String publication,
    Optional<ConfigFile> config) {

  /** Slot name when the configuration file names none (the relay's default). */
  public static final String DEFAULT_SLOT = "unpoll";

  /** Publication name when the configuration file names none (the relay's default). */
  public static final String DEFAULT_PUBLICATION = "unpoll";

  /** The environment variable read for the password when no other source names one. */
  public static final String DEFAULT_PASSWORD_ENV = "PGPASSWORD";

  /**
   * What the user gave (the command-line options, or the library's builder); null: not given.
   *
   * @param db PostgreSQL JDBC URL
   * @param user database user
   * @param passwordEnv environment variable holding the password
   * @param kafka Kafka bootstrap servers
   * @param config the relay's configuration file
   */
  public record Given(String db, String user, String passwordEnv, String kafka, Path config) {}

  /** Resolves the options against the file (if any) and the environment. */
  public static Settings resolve(Given o, Map<String, String> env) {
    return resolve(o, null, null, env);
  }

  /** Resolves, with {@code --slot} / {@code --publication} overriding the file when not null. */
  public static Settings resolve(
      Given o, String slotFlag, String publicationFlag, Map<String, String> env) {
    Optional<ConfigFile> file =
        o.config() == null ? Optional.empty() : Optional.of(ConfigFile.read(o.config(), env));
    String url = o.db() != null ? o.db() : file.map(f -> f.text("source.jdbc-url")).orElse(null);
    String user = o.user() != null ? o.user() : file.map(f -> f.text("source.user")).orElse(null);
    String password;
    if (o.passwordEnv() != null) {
      password = env.get(o.passwordEnv());
      if (password == null) {
        throw MigrationException.usage(
            "--password-env: environment variable " + o.passwordEnv() + " is not set");
      }
    } else {
      password = file.map(f -> f.text("source.password")).orElse(null);
      if (password == null) {
        password = env.get(DEFAULT_PASSWORD_ENV);
      }
    }
    String kafka =
        o.kafka() != null
            ? o.kafka()
            : file.map(f -> f.text("kafka.bootstrap-servers")).orElse(null);
    Map<String, String> props = new LinkedHashMap<>();
    file.ifPresent(
        f -> {
          Iterator<Map.Entry<String, JsonNode>> it =
              f.node("kafka.properties").properties().iterator();
          while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            props.put(e.getKey(), e.getValue().asText());
          }
        });
    String slot =
        slotFlag != null ? slotFlag : file.map(f -> f.text("source.slot")).orElse(DEFAULT_SLOT);
    if (slot != null && !RelayNames.isValidSlotName(slot)) {
      throw MigrationException.usage(
          (slotFlag != null ? "--slot" : "source.slot")
              + ": '"
              + slot
              + "' is not a slot name the relay accepts; use "
              + RelayNames.SLOT_NAME_RULE);
    }
    String publication =
        publicationFlag != null
            ? publicationFlag
            : file.map(f -> f.text("source.publication")).orElse(DEFAULT_PUBLICATION);
    return new Settings(
        url,
        user,
        password,
        kafka,
        Map.copyOf(props),
        slot == null ? DEFAULT_SLOT : slot,
        publication == null ? DEFAULT_PUBLICATION : publication,
        file);
  }

  /** The JDBC URL, or a usage error saying how to give one. */
  public String requireJdbcUrl() {
    if (jdbcUrl == null || jdbcUrl.isBlank()) {
      throw MigrationException.usage(
          "no database: pass --db jdbc:postgresql://host:5432/database (or --config unpoll.yaml)");
    }
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw MigrationException.usage(
          "--db: '"
              + Masking.url(jdbcUrl)
              + "' is not a PostgreSQL JDBC URL"
              + " (expected jdbc:postgresql://host:5432/database)");
    }
    return jdbcUrl;
  }

  /** The Kafka bootstrap servers, or a usage error saying how to give them. */
  public String requireKafka() {
    if (kafkaBootstrap == null || kafkaBootstrap.isBlank()) {
      throw MigrationException.usage(
          "no Kafka: pass --kafka host:9092 (or --config unpoll.yaml with kafka.bootstrap-servers)");
    }
    return kafkaBootstrap;
  }

  /** The mapping of {@code table} in the configuration file's {@code tables}, if any. */
  public Optional<JsonNode> tableMapping(TableName table) {
    if (config.isEmpty()) {
      return Optional.empty();
    }
    List<JsonNode> tables = config.get().tables();
    for (JsonNode t : tables) {
      String name = t.path("table").asText(null);
      if (name != null) {
        try {
          if (TableName.parse(name).equals(table)) {
            return Optional.of(t);
          }
        } catch (IllegalArgumentException ignored) {
          // an invalid entry is the relay's to report; it is not this table
        }
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return "Settings[jdbcUrl="
        + (jdbcUrl == null ? null : Masking.url(jdbcUrl))
        + ", user="
        + user
        + ", password="
        + (password == null ? null : "****")
        + ", kafka="
        + kafkaBootstrap
        + ", slot="
        + slot
        + ", publication="
        + publication
        + "]";
  }
}
