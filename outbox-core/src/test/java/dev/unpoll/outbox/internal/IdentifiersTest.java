package dev.unpoll.outbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdentifiersTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "unpoll_outbox",
        "Outbox",
        "order",
        "select",
        "_x",
        "t$1",
        "ÄÖÜ_tabelle",
        "a b",
        "1abc",
        "$x",
        "a-b",
        "x\"; DROP TABLE users; --"
      })
  void acceptsWhatPostgresqlTakesQuotedSinceEveryNameIsQuoted(String name) {
    assertThat(Identifiers.problem(name)).isNull();
    assertThat(Identifiers.quote(name)).startsWith("\"").endsWith("\"");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "x\u0000",
        "very_long_name_that_is_longer_than_sixty_three_bytes_in_postgres_x"
      })
  void rejectsWhatPostgresqlWouldRefuseOrTruncate(String name) {
    assertThat(Identifiers.problem(name)).isNotNull();
  }

  @Test
  void quotesWithDoubleQuotesAndDoublesEmbeddedQuotes() {
    assertThat(Identifiers.quote("order")).isEqualTo("\"order\"");
    assertThat(Identifiers.quote("a\"b")).isEqualTo("\"a\"\"b\"");
  }
}
