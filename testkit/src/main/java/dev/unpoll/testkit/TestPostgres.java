package dev.unpoll.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * How to reach one database of a running PostgreSQL server with logical decoding: JDBC URL,
 * credentials, and a pooled {@link DataSource}. Obtained from {@link UnpollStack#postgres()}.
 */
public final class TestPostgres implements AutoCloseable {
  private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final String host;
  private final int port;
  private final String database;
  private final String user;
  private final String password;
  private final String urlParameters;
  private final List<TestPostgres> derived = new ArrayList<>();
  private HikariDataSource dataSource;

  TestPostgres(
      String host, int port, String database, String user, String password, String urlParameters) {
    this.host = Objects.requireNonNull(host, "host");
    this.port = port;
    this.database = Objects.requireNonNull(database, "database");
    this.user = Objects.requireNonNull(user, "user");
    this.password = Objects.requireNonNull(password, "password");
    this.urlParameters = urlParameters == null ? "" : urlParameters;
  }

  /**
   * Parses {@code jdbc:postgresql://host:port/database?params}; parameters are kept as they are.
   */
  static TestPostgres fromJdbcUrl(String jdbcUrl, String user, String password) {
    if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql://")) {
      throw new IllegalArgumentException(
          "not a PostgreSQL JDBC URL: "
              + jdbcUrl
              + " (expected jdbc:postgresql://host:port/database)");
    }
    URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
    String db =
        uri.getPath() == null || uri.getPath().length() <= 1
            ? "postgres"
            : uri.getPath().substring(1);
    return new TestPostgres(
        uri.getHost(),
        uri.getPort() < 0 ? 5432 : uri.getPort(),
        db,
        user,
        password,
        uri.getRawQuery());
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public String database() {
    return database;
  }

  public String user() {
    return user;
  }

  /** The password; never log it. */
  public String password() {
    return password;
  }

  public String jdbcUrl() {
    String base = "jdbc:postgresql://" + host + ":" + port + "/" + database;
    return urlParameters.isEmpty() ? base : base + "?" + urlParameters;
  }

  /** A new unpooled connection, auto-commit on, as {@link DriverManager} gives it. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), user, password);
  }

  /** A HikariCP pool on this database, created on first use and closed with this object. */
  public synchronized DataSource dataSource() {
    if (dataSource == null) {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(jdbcUrl());
      config.setUsername(user);
      config.setPassword(password);
      config.setMaximumPoolSize(16);
      config.setMinimumIdle(0);
      config.setPoolName("unpoll-testkit-" + database);
      dataSource = new HikariDataSource(config);
    }
    return dataSource;
  }

  /**
   * Creates a new empty database on the same server and returns its endpoint. A database per test
   * class keeps tables, slots and publications of one class out of another's way.
   */
  public synchronized TestPostgres createDatabase(String name) {
    if (!DATABASE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "database name '" + name + "' must match " + DATABASE_NAME.pattern());
    }
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE \"" + name + "\"");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
    }
    TestPostgres db = new TestPostgres(host, port, name, user, password, urlParameters);
    derived.add(db);
    return db;
  }

  /** Closes the pools of this endpoint and of the databases created through it. */
  @Override
  public synchronized void close() {
    derived.forEach(TestPostgres::close);
    derived.clear();
    if (dataSource != null) {
      dataSource.close();
      dataSource = null;
    }
  }

  @Override
  public String toString() {
    return "TestPostgres[" + jdbcUrl() + ", user=" + user + ", password=****]";
  }
}
