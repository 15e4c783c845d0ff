package dev.unpoll.contract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdentifiersTest {

  @Test
  void anyNamePostgresqlTakesQuotedIsAcceptedAndQuoted() {
    for (String ok : new String[] {"order", "OrderQueue", "Settlement \"Batch\" ü", "a b", "$x"}) {
      assertThat(Identifiers.problem(ok)).as(ok).isNull();
    }
    assertThat(Identifiers.quote("Settlement \"Batch\"")).isEqualTo("\"Settlement \"\"Batch\"\"\"");
  }

  @Test
  void emptyNulAndOverlongNamesAreRefusedWithWhy() {
    assertThat(Identifiers.problem("")).isEqualTo("must not be empty");
    assertThat(Identifiers.problem(null)).isEqualTo("must not be empty");
    assertThat(Identifiers.problem("a\0b")).contains("NUL");
    assertThat(Identifiers.problem("x".repeat(63))).isNull();
    assertThat(Identifiers.problem("ü".repeat(32))).contains("longer than 63 bytes");
  }
}
