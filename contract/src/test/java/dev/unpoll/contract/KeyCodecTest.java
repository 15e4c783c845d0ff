package dev.unpoll.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The key forms of docs/reference/event-format.md. The relay's and {@code verify}'s readings of
 * real rows are compared in cdc-relay's KeyCodecGoldenIT.
 */
class KeyCodecTest {

  @Test
  void oneColumnIsItsTextAndSeveralAreACompactJsonArray() {
    assertThat(KeyCodec.encode(List.of(KeyPart.of(42L)))).isEqualTo("42");
    assertThat(KeyCodec.encode(List.of(KeyPart.text("A-17")))).isEqualTo("A-17");
    assertThat(KeyCodec.encode(List.of(KeyPart.of(new BigDecimal("1.50"))))).isEqualTo("1.5");
    assertThat(KeyCodec.encode(List.of(KeyPart.of(new BigDecimal("1E+2"))))).isEqualTo("100");
    assertThat(KeyCodec.encode(List.of(KeyPart.of(new BigDecimal("0.000"))))).isEqualTo("0");
    assertThat(KeyCodec.encode(List.of(KeyPart.of(true)))).isEqualTo("true");
    assertThat(KeyCodec.encode(List.of(KeyPart.of(42L), KeyPart.text("EU"))))
        .isEqualTo("[42,\"EU\"]");
    assertThat(
            KeyCodec.encode(
                List.of(
                    KeyPart.text("it's \"q\", a,b ü"),
                    KeyPart.of(new BigDecimal("12.50")),
                    KeyPart.of(false),
                    new KeyPart.Null())))
        .isEqualTo("[\"it's \\\"q\\\", a,b ü\",12.5,false,null]");
  }

  @Test
  void timesHaveNoTrailingZerosAndTimestamptzIsUtc() {
    assertThat(KeyPart.timestamp(LocalDateTime.of(2026, 11, 21, 19, 56, 52, 123_456_000)))
        .isEqualTo(new KeyPart.Text("2026-11-21T19:56:52.123456"));
    assertThat(KeyPart.timestamp(LocalDateTime.of(2026, 11, 21, 19, 56, 0, 100_000_000)))
        .isEqualTo(new KeyPart.Text("2026-11-21T19:56:00.1"));
    assertThat(KeyPart.timestamp(LocalDateTime.of(2026, 11, 21, 19, 56)))
        .isEqualTo(new KeyPart.Text("2026-11-21T19:56:00"));
    assertThat(KeyPart.timestamptz(Instant.parse("2026-11-21T14:56:52.120-05:00")))
        .isEqualTo(new KeyPart.Text("2026-11-21T19:56:52.12Z"));
    assertThat(KeyPart.date(LocalDate.of(2026, 1, 2))).isEqualTo(new KeyPart.Text("2026-01-02"));
    assertThat(KeyPart.time(LocalTime.of(7, 5))).isEqualTo(new KeyPart.Text("07:05:00"));
  }

  @Test
  void decodeGivesTheColumnValuesAsText() {
    assertThat(KeyCodec.decode("A-17", 1)).containsExactly("A-17");
    assertThat(KeyCodec.decode("[\"x,y\",12.5,true]", 3)).containsExactly("x,y", "12.5", "true");
    assertThat(KeyCodec.decode("[1,null]", 2)).isEqualTo(Arrays.asList("1", null));
    String key =
        KeyCodec.encode(
            List.of(
                KeyPart.timestamptz(Instant.parse("2026-11-21T19:56:52.123456Z")),
                KeyPart.text("plain")));
    assertThat(KeyCodec.decode(key, 2)).containsExactly("2026-11-21T19:56:52.123456Z", "plain");
  }

  @Test
  void aKeyThatDoesNotFitTheColumnsSaysWhatWasExpected() {
    assertThatThrownBy(() -> KeyCodec.decode("[1,2]", 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("JSON array of 3 values");
    assertThatThrownBy(() -> KeyCodec.decode("not json", 2))
        .hasMessageContaining("JSON array of 2 values");
  }
}
