package dev.unpoll.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class SchemaAndIdentifiersIT {
  private static DataSource ds;

  @BeforeAll
  static void database(TestPostgres server) {
    ds = server.createDatabase("outbox_schema_it").dataSource();
  }

  @Test
  void reservedWordsAndMixedCaseNamesAreQuotedAndWork() throws SQLException {
    Outbox outbox =
        Outbox.builder()
            .schema("Sales")
            .table("order")
            .columns(
                Map.of(
                    OutboxColumn.ID, "select",
                    OutboxColumn.TYPE, "eventType",
                    OutboxColumn.AGGREGATE_ID, "from"))
            .build();
    exec("CREATE SCHEMA \"Sales\"");
    exec(outbox.ddl());
    try (Connection c = ds.getConnection()) {
      assertThat(outbox.checkSchema(c)).isEmpty();
      c.setAutoCommit(false);
      outbox.publish(c, OutboxEvent.of("order", "1", "OrderCreated", Map.of("x", 1)));
      c.commit();
    }
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT \"eventType\", \"from\" FROM \"Sales\".\"order\"")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("OrderCreated");
      assertThat(rs.getString(2)).isEqualTo("1");
    }
  }

  @Test
  void hostileNamesAreQuotedSoTheyAreOnlyNames() throws SQLException {
    exec("CREATE TABLE victim (id int)");
    // a legal quoted identifier (the contract's one rule): quoting keeps it a name, never SQL
    Outbox outbox = Outbox.builder().table("unpoll_outbox\"; DROP TABLE victim; --").build();
    exec(outbox.ddl());
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      outbox.publish(c, OutboxEvent.of("order", "1", "OrderCreated", java.util.Map.of("id", 1)));
      c.commit();
    }
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT to_regclass('victim') IS NOT NULL, (SELECT count(*) FROM"
                    + " \"unpoll_outbox\"\"; DROP TABLE victim; --\")")) {
      rs.next();
      assertThat(rs.getBoolean(1)).isTrue();
      assertThat(rs.getLong(2)).isEqualTo(1);
    }
  }

  @Test
  void schemaCheckNamesAMissingTable() throws SQLException {
    Outbox outbox = Outbox.builder().table("nowhere").build();
    try (Connection c = ds.getConnection()) {
      assertThat(outbox.checkSchema(c))
          .singleElement()
          .asString()
          .contains("table public.nowhere does not exist", Outbox.DDL_RESOURCE);
      assertThatThrownBy(() -> outbox.verifySchema(c))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("public.nowhere does not exist");
    }
  }

  @Test
  void schemaCheckNamesEveryMissingOrMismatchedColumn() throws SQLException {
    exec(
        "CREATE TABLE half_outbox (id text PRIMARY KEY, aggregatetype text NOT NULL,"
            + " aggregateid varchar(255) NOT NULL, type text NOT NULL, payload json,"
            + " created_at timestamp NOT NULL, tenant text NOT NULL)");
    Outbox outbox = Outbox.builder().table("half_outbox").build();
    try (Connection c = ds.getConnection()) {
      assertThat(outbox.checkSchema(c))
          .containsExactlyInAnyOrder(
              "column public.half_outbox.id is text, expected uuid",
              "column public.half_outbox.payload is json, expected jsonb",
              "column headers (jsonb) is missing in public.half_outbox (columns: id,"
                  + " aggregatetype, aggregateid, type, payload, created_at, tenant)",
              "column public.half_outbox.created_at is timestamp without time zone, expected"
                  + " timestamp with time zone",
              "column public.half_outbox.tenant is NOT NULL without a default, but the outbox"
                  + " does not write it: give it a default or drop NOT NULL");
    }
  }

  @Test
  void schemaCheckNamesAMissingPrivilege() throws SQLException {
    Outbox outbox = Outbox.builder().table("locked_outbox").deleteAfterInsert(true).build();
    exec(outbox.ddl());
    exec("CREATE ROLE outbox_reader LOGIN PASSWORD 'reader-pw'");
    exec("GRANT SELECT ON locked_outbox TO outbox_reader");
    exec("GRANT USAGE ON SCHEMA public TO outbox_reader");
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("SET LOCAL ROLE outbox_reader");
      }
      assertThat(outbox.checkSchema(c))
          .anyMatch(p -> p.contains("user outbox_reader lacks INSERT on public.locked_outbox"))
          .anyMatch(p -> p.contains("lacks DELETE on public.locked_outbox"));
      c.rollback();
    }
  }

  private static void exec(String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
