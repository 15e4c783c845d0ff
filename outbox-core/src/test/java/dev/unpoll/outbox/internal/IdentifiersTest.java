package dev.unpoll.outbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdentifiersTest {

  @ParameterizedTest
  @ValueSource(strings = {"unpoll_outbox", "Outbox", "order", "select", "_x", "t$1", "ÄÖÜ_tabelle"})
  void acceptsPlainIdentifiersIncludingReservedWordsAndMixedCase(String name) {
    assertThat(Identifiers.problem(name)).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "x\"; DROP TABLE users; --",
        "a b",
        "1abc",
        "$x",
        "public.outbox",
        "x\u0000",
        "a-b",
        "very_long_name_that_is_longer_than_sixty_three_bytes_in_postgres_x"
      })
  void rejectsIdentifiersThatAreNotPlainNames(String name) {
    assertThat(Identifiers.problem(name)).isNotNull();
  }

  @Test
  void quotesWithDoubleQuotesAndDoublesEmbeddedQuotes() {
    assertThat(Identifiers.quote("order")).isEqualTo("\"order\"");
    assertThat(Identifiers.quote("a\"b")).isEqualTo("\"a\"\"b\"");
  }
}
