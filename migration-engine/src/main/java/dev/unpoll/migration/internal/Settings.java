package dev.unpoll.migration.internal;

import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.MigrationException;
import java.nio.file.Path;
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
 * @param slot the relay's replication slot; {@link #slot()} fails when neither flag nor file names
 *     it
 * @param publication the relay's publication; {@link #publication()} likewise
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

  /**
   * Resolves, with {@code --slot} / {@code --publication} overriding the file when not null. The
   * file is read by the relay's own reader: a setting the relay would refuse is refused here too.
   */
  public static Settings resolve(
      Given o, String slotFlag, String publicationFlag, Map<String, String> env) {
    Optional<ConfigFile> file =
        o.config() == null ? Optional.empty() : Optional.of(ConfigFile.read(o.config(), env));
    Optional<UnpollConfig.Source> source = file.flatMap(f -> f.content().source());
    Optional<UnpollConfig.Kafka> kafkaSection = file.flatMap(f -> f.content().kafka());
    String url = o.db() != null ? o.db() : source.map(UnpollConfig.Source::jdbcUrl).orElse(null);
    String user = o.user() != null ? o.user() : source.map(UnpollConfig.Source::user).orElse(null);
    String password;
    if (o.passwordEnv() != null) {
      password = env.get(o.passwordEnv());
      if (password == null) {
        throw MigrationException.usage(
            "--password-env: environment variable " + o.passwordEnv() + " is not set");
      }
    } else {
      password = source.map(UnpollConfig.Source::password).orElse(null);
      if (password == null) {
        password = env.get(DEFAULT_PASSWORD_ENV);
      }
    }
    String kafka =
        o.kafka() != null
            ? o.kafka()
            : kafkaSection.map(UnpollConfig.Kafka::bootstrapServers).orElse(null);
    Map<String, String> props = kafkaSection.map(UnpollConfig.Kafka::properties).orElse(Map.of());
    if (slotFlag != null && !RelayNames.isValidSlotName(slotFlag)) {
      throw MigrationException.usage(
          "--slot: '"
              + slotFlag
              + "' is not a slot name the relay accepts; use "
              + RelayNames.SLOT_NAME_RULE);
    }
    if (publicationFlag != null && !RelayNames.isValidPublicationName(publicationFlag)) {
      throw MigrationException.usage(
          "--publication: '"
              + publicationFlag
              + "' is not a publication name the relay accepts; use "
              + RelayNames.PUBLICATION_NAME_RULE);
    }
    String slot = slotFlag != null ? slotFlag : source.map(UnpollConfig.Source::slot).orElse(null);
    String publication =
        publicationFlag != null
            ? publicationFlag
            : source.map(UnpollConfig.Source::publication).orElse(null);
    return new Settings(url, user, password, kafka, props, slot, publication, file);
  }

  /** These settings with {@code password}. */
  public Settings withPassword(String password) {
    return new Settings(
        jdbcUrl, user, password, kafkaBootstrap, kafkaProperties, slot, publication, config);
  }

  /**
   * The relay's replication slot, or a usage error saying how to name it. There is no default: a
   * slot other than the relay's would pin WAL for nobody and leave the relay's own uncreated.
   */
  @Override
  public String slot() {
    if (slot == null) {
      throw MigrationException.usage(
          "no replication slot: pass --slot <the relay's slot> or --config unpoll.yaml with"
              + " source.slot");
    }
    return slot;
  }

  /** The relay's publication, or a usage error saying how to name it. */
  @Override
  public String publication() {
    if (publication == null) {
      throw MigrationException.usage(
          "no publication: pass --publication <the relay's publication> or --config unpoll.yaml"
              + " with source.publication");
    }
    return publication;
  }

  /** Whether a publication was given (by flag or file). */
  public boolean hasPublication() {
    return publication != null;
  }

  /** Whether a slot was given (by flag or file). */
  public boolean hasSlot() {
    return slot != null;
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
  public Optional<TableMapping> tableMapping(TableName table) {
    return config.flatMap(f -> f.mapping(table));
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
