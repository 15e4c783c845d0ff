package dev.unpoll.outbox.internal;

import dev.unpoll.contract.JsonText;
import java.util.Map;

/**
 * The little JSON this module writes itself (headers, the WAL message envelope) and a syntax check
 * for JSON text given by callers, so a bad payload fails before it reaches the database.
 */
public final class Json {
  private Json() {}

  /** Appends {@code s} as a JSON string literal. */
  public static StringBuilder quote(StringBuilder out, String s) {
    return JsonText.quote(out, s);
  }

  /** {@code s} as a JSON string literal. */
  public static String quote(String s) {
    return quote(new StringBuilder(s.length() + 2), s).toString();
  }

  /** A JSON object of string to string, in the map's order. */
  public static String object(Map<String, String> map) {
    StringBuilder out = new StringBuilder(2 + map.size() * 16);
    appendObject(out, map);
    return out.toString();
  }

  /** Appends a JSON object of string to string. */
  public static StringBuilder appendObject(StringBuilder out, Map<String, String> map) {
    return JsonText.appendObject(out, map);
  }

  /**
   * Null when {@code text} is one syntactically valid JSON value (RFC 8259) that PostgreSQL's jsonb
   * can store (no {@code \\u0000} escape), otherwise what is wrong and where.
   */
  public static String syntaxError(String text) {
    Parser p = new Parser(text);
    try {
      p.skipWs();
      p.value(0);
      p.skipWs();
      if (p.pos != text.length()) {
        return "unexpected '" + text.charAt(p.pos) + "' after the value at offset " + p.pos;
      }
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  private static final class Parser {
    private static final int MAX_DEPTH = 1000;
    private final String s;
    private int pos;

    Parser(String s) {
      this.s = s;
    }

    void value(int depth) {
      if (depth > MAX_DEPTH) {
        throw fail("nesting deeper than " + MAX_DEPTH);
      }
      if (pos >= s.length()) {
        throw fail("unexpected end of input");
      }
      char c = s.charAt(pos);
      switch (c) {
        case '{':
          pos++;
          skipWs();
          if (peek() == '}') {
            pos++;
            return;
          }
          while (true) {
            skipWs();
            if (peek() != '"') {
              throw fail("expected a member name");
            }
            string();
            skipWs();
            expect(':');
            skipWs();
            value(depth + 1);
            skipWs();
            if (peek() == ',') {
              pos++;
            } else {
              expect('}');
              return;
            }
          }
        case '[':
          pos++;
          skipWs();
          if (peek() == ']') {
            pos++;
            return;
          }
          while (true) {
            skipWs();
            value(depth + 1);
            skipWs();
            if (peek() == ',') {
              pos++;
            } else {
              expect(']');
              return;
            }
          }
        case '"':
          string();
          return;
        case 't':
          literal("true");
          return;
        case 'f':
          literal("false");
          return;
        case 'n':
          literal("null");
          return;
        default:
          number();
      }
    }

    void string() {
      pos++; // opening quote
      while (pos < s.length()) {
        char c = s.charAt(pos++);
        if (c == '"') {
          return;
        }
        if (c == '\\') {
          if (pos >= s.length()) {
            break;
          }
          char e = s.charAt(pos++);
          if (e == 'u') {
            for (int i = 0; i < 4; i++) {
              if (pos >= s.length() || Character.digit(s.charAt(pos), 16) < 0) {
                throw fail("bad \\u escape");
              }
              pos++;
            }
            if (s.startsWith("0000", pos - 4)) {
              pos -= 6;
              throw fail("\\u0000 (PostgreSQL's jsonb cannot store U+0000)");
            }
          } else if ("\"\\/bfnrt".indexOf(e) < 0) {
            pos--;
            throw fail("bad escape \\" + e);
          }
        } else if (c < 0x20) {
          pos--;
          throw fail("control character in a string");
        }
      }
      throw fail("unterminated string");
    }

    void number() {
      int start = pos;
      if (peek() == '-') {
        pos++;
      }
      if (peek() == '0') {
        pos++;
      } else if (isDigit(peek())) {
        digits();
      } else {
        pos = start;
        throw fail("unexpected '" + (start < s.length() ? s.charAt(start) : ' ') + "'");
      }
      if (peek() == '.') {
        pos++;
        if (!isDigit(peek())) {
          throw fail("digit expected after '.'");
        }
        digits();
      }
      if (peek() == 'e' || peek() == 'E') {
        pos++;
        if (peek() == '+' || peek() == '-') {
          pos++;
        }
        if (!isDigit(peek())) {
          throw fail("digit expected in exponent");
        }
        digits();
      }
    }

    void digits() {
      while (isDigit(peek())) {
        pos++;
      }
    }

    void literal(String word) {
      if (!s.startsWith(word, pos)) {
        throw fail("unexpected '" + s.charAt(pos) + "'");
      }
      pos += word.length();
    }

    void expect(char c) {
      if (peek() != c) {
        throw fail("expected '" + c + "'");
      }
      pos++;
    }

    char peek() {
      return pos < s.length() ? s.charAt(pos) : '\0';
    }

    void skipWs() {
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          pos++;
        } else {
          return;
        }
      }
    }

    static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }

    IllegalArgumentException fail(String what) {
      return new IllegalArgumentException(what + " at offset " + pos);
    }
  }
}
