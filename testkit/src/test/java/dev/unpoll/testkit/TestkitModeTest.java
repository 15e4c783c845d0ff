package dev.unpoll.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TestkitModeTest {
  @Test
  void defaultsToEmbedded() {
    assertThat(TestkitMode.parse(null)).isEqualTo(TestkitMode.EMBEDDED);
    assertThat(TestkitMode.parse(" ")).isEqualTo(TestkitMode.EMBEDDED);
  }

  @Test
  void parsesModesCaseInsensitively() {
    assertThat(TestkitMode.parse("Containers")).isEqualTo(TestkitMode.CONTAINERS);
    assertThat(TestkitMode.parse("external")).isEqualTo(TestkitMode.EXTERNAL);
  }

  @Test
  void rejectsUnknownModeNamingTheChoices() {
    assertThatThrownBy(() -> TestkitMode.parse("docker"))
        .hasMessageContaining("UNPOLL_TESTKIT_MODE=docker")
        .hasMessageContaining("embedded, containers, auto or external");
  }

  @Test
  void externalModeNamesEveryMissingVariable() {
    assertThatThrownBy(
            () ->
                TestkitMode.External.from(Map.of("UNPOLL_TEST_JDBC_URL", "jdbc:postgresql://h/db")))
        .hasMessageContaining(
            "UNPOLL_TEST_DB_USER, UNPOLL_TEST_DB_PASSWORD, UNPOLL_TEST_KAFKA_BOOTSTRAP");
  }

  @Test
  void jdbcUrlParametersSuchAsSslmodeArePassedThrough() {
    TestPostgres pg =
        TestPostgres.fromJdbcUrl(
            "jdbc:postgresql://db.internal:6432/orders?sslmode=verify-full", "u", "p");
    assertThat(pg.host()).isEqualTo("db.internal");
    assertThat(pg.port()).isEqualTo(6432);
    assertThat(pg.database()).isEqualTo("orders");
    assertThat(pg.jdbcUrl())
        .isEqualTo("jdbc:postgresql://db.internal:6432/orders?sslmode=verify-full");
    assertThat(pg.toString()).doesNotContain("=p]").contains("password=****");
  }
}
