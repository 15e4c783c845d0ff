package dev.unpoll.testkit;

import java.util.Locale;
import java.util.Map;

/**
 * Where the testkit's PostgreSQL and Kafka come from, chosen with {@code UNPOLL_TESTKIT_MODE} (or
 * the system property {@code unpoll.testkit.mode}).
 */
public enum TestkitMode {
  /** PostgreSQL from zonky's binaries and a KRaft broker in this JVM. The default: no Docker. */
  EMBEDDED,
  /** Testcontainers: {@code postgres} with logical decoding and {@code apache/kafka}. */
  CONTAINERS,
  /** CONTAINERS where a Docker engine answers, EMBEDDED otherwise. */
  AUTO,
  /** Servers someone else runs, named by the {@code UNPOLL_TEST_*} variables. */
  EXTERNAL;

  public static final String ENV = "UNPOLL_TESTKIT_MODE";
  public static final String PROPERTY = "unpoll.testkit.mode";

  /** Reads the mode from the system property, then the environment; default {@link #EMBEDDED}. */
  public static TestkitMode fromEnvironment() {
    return parse(System.getProperty(PROPERTY, System.getenv(ENV)));
  }

  static TestkitMode parse(String value) {
    if (value == null || value.isBlank()) {
      return EMBEDDED;
    }
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          ENV + "=" + value + " is not a mode: use embedded, containers, auto or external");
    }
  }

  /** The settings of {@link #EXTERNAL} mode, read from a variable source such as System.getenv. */
  record External(String jdbcUrl, String user, String password, String bootstrapServers) {
    static final String JDBC_URL = "UNPOLL_TEST_JDBC_URL";
    static final String USER = "UNPOLL_TEST_DB_USER";
    static final String PASSWORD = "UNPOLL_TEST_DB_PASSWORD";
    static final String BOOTSTRAP = "UNPOLL_TEST_KAFKA_BOOTSTRAP";

    static External from(Map<String, String> env) {
      StringBuilder missing = new StringBuilder();
      for (String name : new String[] {JDBC_URL, USER, PASSWORD, BOOTSTRAP}) {
        if (env.get(name) == null || env.get(name).isBlank()) {
          missing.append(missing.length() == 0 ? "" : ", ").append(name);
        }
      }
      if (missing.length() > 0) {
        throw new IllegalArgumentException(
            ENV
                + "=external needs these variables set: "
                + missing
                + " (a PostgreSQL with wal_level=logical and a Kafka broker)");
      }
      return new External(env.get(JDBC_URL), env.get(USER), env.get(PASSWORD), env.get(BOOTSTRAP));
    }
  }
}
