package dev.unpoll.relay.ops.internal;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * Opens the dedicated PostgreSQL sessions of the operations components: auto-commit, TCP
 * keep-alive, and connect/socket timeouts so a dead network is noticed in seconds rather than after
 * the operating system's TCP timeout. Parameters in the JDBC URL take precedence.
 */
public final class PgConnections {
  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final String applicationName;
  private final Duration socketTimeout;

  public PgConnections(
      String jdbcUrl, String user, String password, String applicationName, Duration timeout) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.applicationName = applicationName;
    this.socketTimeout = timeout;
  }

  /** A new session; the caller closes it. */
  public Connection open() throws SQLException {
    Properties props = new Properties();
    if (user != null) {
      props.setProperty("user", user);
    }
    if (password != null) {
      props.setProperty("password", password);
    }
    long seconds = Math.max(1, (socketTimeout.toMillis() + 999) / 1000);
    props.setProperty("ApplicationName", applicationName);
    props.setProperty("tcpKeepAlive", "true");
    props.setProperty("connectTimeout", Long.toString(seconds));
    props.setProperty("socketTimeout", Long.toString(seconds));
    Connection c = DriverManager.getConnection(jdbcUrl, props);
    c.setAutoCommit(true);
    return c;
  }

  /** The JDBC URL without its parameters (which may carry a password), for log lines. */
  public String safeUrl() {
    int q = jdbcUrl.indexOf('?');
    return q < 0 ? jdbcUrl : jdbcUrl.substring(0, q);
  }

  /** The URL with its parameters masked, for validation messages. */
  public static String maskQuery(String url) {
    int q = url.indexOf('?');
    return q < 0 ? url : url.substring(0, q) + "?****";
  }

  /** Closes quietly: used on paths where the session is already known to be broken. */
  public static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException | RuntimeException ignored) {
        // the session is being discarded
      }
    }
  }
}
