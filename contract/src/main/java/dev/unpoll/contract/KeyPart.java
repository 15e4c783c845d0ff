package dev.unpoll.contract;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * One key column's value in its canonical form, whatever read it: the relay from Debezium's values,
 * {@code unpoll verify} from JDBC, a test from a literal. The factories are the only place a type's
 * text is chosen (see {@code docs/reference/event-format.md}, "Canonical key"):
 *
 * <ul>
 *   <li>integers and {@code numeric}: a number, written plain without trailing zeros ({@code 42},
 *       {@code 12.5}, {@code 100});
 *   <li>{@code real}/{@code double precision}: a number as Java writes a double;
 *   <li>{@code boolean}: {@code true}/{@code false};
 *   <li>{@code date}: {@code 2026-11-21};
 *   <li>{@code timestamp}: {@code 2026-11-21T19:56:52.1234}, the fraction without trailing zeros
 *       (none when whole seconds);
 *   <li>{@code timestamptz}: the same in UTC with {@code Z}: {@code 2026-11-21T19:56:52.1234Z};
 *   <li>{@code time}: {@code 19:56:52.5};
 *   <li>anything else (text, varchar, char, uuid, enum): the text PostgreSQL prints.
 * </ul>
 */
public sealed interface KeyPart {

  /** An integer or an exact decimal. */
  record Number(BigDecimal value) implements KeyPart {
    public Number {
      Objects.requireNonNull(value);
    }
  }

  /** A floating-point value (a poor key; kept exact as Java prints it). */
  record Floating(double value) implements KeyPart {}

  /** A boolean. */
  record Bool(boolean value) implements KeyPart {}

  /** Text, and every type written as text (dates and times in the forms above). */
  record Text(String value) implements KeyPart {
    public Text {
      Objects.requireNonNull(value);
    }
  }

  /** SQL NULL (only a configured key column can be null; a primary key cannot). */
  record Null() implements KeyPart {}

  /** An integer. */
  static KeyPart of(long value) {
    return new Number(BigDecimal.valueOf(value));
  }

  /**
   * An exact decimal, without trailing zeros: {@code 12.500} and {@code 12.5} are one key (Debezium
   * drops the trailing zeros of a {@code numeric} without a declared scale, JDBC keeps them).
   */
  static KeyPart of(BigDecimal value) {
    if (value == null) {
      return new Null();
    }
    BigDecimal v = value.signum() == 0 ? BigDecimal.ZERO : value.stripTrailingZeros();
    return new Number(v.scale() < 0 ? v.setScale(0) : v);
  }

  /** A floating-point value. */
  static KeyPart of(double value) {
    return new Floating(value);
  }

  /** A boolean. */
  static KeyPart of(boolean value) {
    return new Bool(value);
  }

  /** Text as it is. */
  static KeyPart text(String value) {
    return value == null ? new Null() : new Text(value);
  }

  /** A {@code date}. */
  static KeyPart date(LocalDate value) {
    return value == null ? new Null() : new Text(value.toString());
  }

  /** A {@code timestamp} (without time zone). */
  static KeyPart timestamp(LocalDateTime value) {
    if (value == null) {
      return new Null();
    }
    return new Text(value.toLocalDate() + "T" + timeText(value.toLocalTime()));
  }

  /** A {@code timestamptz}, written in UTC. */
  static KeyPart timestamptz(Instant value) {
    if (value == null) {
      return new Null();
    }
    LocalDateTime utc = LocalDateTime.ofInstant(value, ZoneOffset.UTC);
    return new Text(utc.toLocalDate() + "T" + timeText(utc.toLocalTime()) + "Z");
  }

  /** A {@code time} (without time zone). */
  static KeyPart time(LocalTime value) {
    return value == null ? new Null() : new Text(timeText(value));
  }

  private static String timeText(LocalTime t) {
    StringBuilder b = new StringBuilder(18);
    two(b, t.getHour()).append(':');
    two(b, t.getMinute()).append(':');
    two(b, t.getSecond());
    int nanos = t.getNano();
    if (nanos != 0) {
      String f = Integer.toString(1_000_000_000 + nanos).substring(1);
      int end = f.length();
      while (f.charAt(end - 1) == '0') {
        end--;
      }
      b.append('.').append(f, 0, end);
    }
    return b.toString();
  }

  private static StringBuilder two(StringBuilder b, int v) {
    return b.append(v < 10 ? "0" : "").append(v);
  }
}
