package dev.unpoll.outbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{}",
        "[]",
        "null",
        "true",
        "-0.5e+10",
        "\"a\\u00e9\\n\"",
        " {\"a\": [1, 2, {\"b\": null}], \"c\": \"d\"} ",
        "[[[[]]]]"
      })
  void acceptsValidJson(String text) {
    assertThat(Json.syntaxError(text)).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "{",
        "{\"a\":}",
        "{a:1}",
        "[1,]",
        "01",
        "'x'",
        "\"unterminated",
        "{} {}",
        "tru",
        "\"bad \\x escape\"",
        "NaN",
        "\"\\u0000\""
      })
  void rejectsInvalidJson(String text) {
    assertThat(Json.syntaxError(text)).isNotNull();
  }

  @Test
  void quotesControlCharactersQuotesAndBackslashes() {
    assertThat(Json.quote("a\"b\\c\nd\u0001")).isEqualTo("\"a\\\"b\\\\c\\nd\\u0001\"");
    assertThat(Json.syntaxError(Json.quote("any \u0001 text \t \"x\""))).isNull();
  }

  @Test
  void writesStringMapsAsObjectsInOrder() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("z", "1");
    m.put("a\"", "2");
    assertThat(Json.object(m)).isEqualTo("{\"z\":\"1\",\"a\\\"\":\"2\"}");
  }
}
