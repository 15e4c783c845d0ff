package dev.unpoll.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** External mode reaches servers it did not start, from the documented variables alone. */
@ExtendWith(UnpollStackExtension.class)
class ExternalModeIT {
  @Test
  void connectsToServersNamedByTheVariablesAndLeavesThemRunning(UnpollStack running)
      throws Exception {
    TestPostgres pg = running.postgres();
    Map<String, String> env =
        Map.of(
            "UNPOLL_TEST_JDBC_URL", pg.jdbcUrl(),
            "UNPOLL_TEST_DB_USER", pg.user(),
            "UNPOLL_TEST_DB_PASSWORD", pg.password(),
            "UNPOLL_TEST_KAFKA_BOOTSTRAP", running.kafka().bootstrapServers());
    try (UnpollStack external = UnpollStack.start(TestkitMode.EXTERNAL, env)) {
      assertThat(external.mode()).isEqualTo(TestkitMode.EXTERNAL);
      try (Connection c = external.postgres().dataSource().getConnection();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SHOW wal_level")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("logical");
      }
      assertThat(external.kafka().admin().describeCluster().nodes().get()).hasSize(1);
    }
    // Closing an external stack must not stop servers it did not start.
    try (Connection c = pg.connect()) {
      assertThat(c.isValid(5)).isTrue();
    }
  }
}
