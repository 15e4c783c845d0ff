package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Properties;

/** Opens PostgreSQL connections and turns connection failures into one clear line. */
public final class Db {
  /** Seconds to wait for the server to answer before giving up. */
  public static final int CONNECT_TIMEOUT_SECONDS = 10;

  private Db() {}

  /** A new connection, auto-commit on. */
  public static Connection connect(Settings settings) {
    String url = settings.requireJdbcUrl();
    Properties props = new Properties();
    if (settings.user() != null) {
      props.setProperty("user", settings.user());
    }
    if (settings.password() != null) {
      props.setProperty("password", settings.password());
    }
    props.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
    props.setProperty("loginTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
    props.setProperty("ApplicationName", "unpoll-cli");
    try {
      return DriverManager.getConnection(url, props);
    } catch (SQLException e) {
      throw connectFailure(settings, e);
    }
  }

  static MigrationException connectFailure(Settings settings, SQLException e) {
    String where = Masking.url(settings.jdbcUrl());
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String user = settings.user() == null ? "(default)" : settings.user();
    if (state.equals("28P01") || state.equals("28000")) {
      return new MigrationException(
          "PostgreSQL rejected user '"
              + user
              + "' at "
              + where
              + ": "
              + firstLine(e.getMessage())
              + " (the password comes from --password-env, the config file or PGPASSWORD)",
          e);
    }
    if (state.equals("3D000")) {
      return new MigrationException(
          "database does not exist at " + where + ": " + firstLine(e.getMessage()), e);
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof UnknownHostException) {
        return new MigrationException(
            "cannot reach PostgreSQL at "
                + where
                + ": "
                + t.getClass().getSimpleName()
                + ": "
                + firstLine(t.getMessage()),
            e);
      }
    }
    if (state.startsWith("08")) {
      return new MigrationException(
          "cannot reach PostgreSQL at " + where + ": " + firstLine(e.getMessage()), e);
    }
    return new MigrationException(
        "cannot connect to PostgreSQL at " + where + ": " + firstLine(e.getMessage()), e);
  }

  /** A failure of a statement after connecting, as one line naming what was being done. */
  public static MigrationException failure(String doing, SQLException e) {
    String state = e.getSQLState() == null ? "" : " [SQLSTATE " + e.getSQLState() + "]";
    return new MigrationException(doing + ": " + firstLine(e.getMessage()) + state, e);
  }

  /** The first line of a message (PostgreSQL appends hints and positions on further lines). */
  public static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return (nl < 0 ? message : message.substring(0, nl)).trim();
  }

  /** The database's {@code now()}: windows are measured on the database's clock. */
  public static Instant now(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT now()");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getTimestamp(1).toInstant();
    }
  }

  /** Whether the table exists (as a table, partitioned table or view is not enough). */
  public static boolean tableExists(Connection c, TableName t) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r','p')")) {
      ps.setString(1, t.schema());
      ps.setString(2, t.table());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Throws "table not found" (exit 1) unless the table exists. */
  public static void requireTable(Connection c, TableName t) {
    try {
      if (!tableExists(c, t)) {
        throw new MigrationException(
            "table " + t.display() + " does not exist in database " + c.getCatalog());
      }
    } catch (SQLException e) {
      throw failure("cannot look up table " + t.display(), e);
    }
  }
}
