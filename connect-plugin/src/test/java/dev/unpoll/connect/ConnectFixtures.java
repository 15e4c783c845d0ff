package dev.unpoll.connect;

import dev.unpoll.relay.ConnectorConfig;
import dev.unpoll.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** Shared helpers of the Connect integration tests. */
final class ConnectFixtures {

  /** Set by surefire (pom.xml): the Connect role's password, read by the worker's env provider. */
  static final String PASSWORD = System.getenv(ConnectorConfig.PASSWORD_ENV);

  /** The role Connect's connector logs in as (cluster-wide, so shared by the test classes). */
  static final String CONNECT_ROLE = "unpoll_connect_it";

  private ConnectFixtures() {}

  /** Creates {@link #CONNECT_ROLE} if missing, with {@link #PASSWORD}. */
  static void connectRole(TestPostgres db) {
    if (PASSWORD == null || PASSWORD.isBlank()) {
      throw new IllegalStateException("UNPOLL_DB_PASSWORD is not set (surefire sets it)");
    }
    sql(
        db,
        "do $$ begin if not exists (select from pg_roles where rolname = '"
            + CONNECT_ROLE
            + "') then create role "
            + CONNECT_ROLE
            + " login replication superuser; end if; end $$",
        "alter role " + CONNECT_ROLE + " password '" + PASSWORD + "'");
  }

  /**
   * COPYs rows {@code from..to} ({@code id, note}) into {@code table}: PostgreSQL writes them as
   * multi-insert WAL records, one per heap page, whose rows share one LSN.
   */
  static void copy(TestPostgres db, String table, int from, int to) {
    StringBuilder csv = new StringBuilder();
    for (int i = from; i <= to; i++) {
      csv.append(i).append(",row-").append(i).append('\n');
    }
    try (Connection c = db.connect()) {
      c.unwrap(org.postgresql.PGConnection.class)
          .getCopyAPI()
          .copyIn(
              "COPY " + table + " (id, note) FROM STDIN (FORMAT csv)",
              new java.io.StringReader(csv.toString()));
    } catch (SQLException | java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static void sql(TestPostgres db, String... statements) {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String st : statements) {
        s.execute(st);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
