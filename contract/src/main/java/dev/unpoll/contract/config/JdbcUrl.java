package dev.unpoll.contract.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The parts of a {@code jdbc:postgresql://host:port/db?params} URL Debezium needs separately. */
public record JdbcUrl(String host, int port, String database, Map<String, String> parameters) {

  private static final Pattern URL =
      Pattern.compile(
          "jdbc:postgresql://([^/:?\\[\\]]+|\\[[^\\]]+\\])(?::(\\d{1,5}))?/([^?]+)(?:\\?(.*))?");

  /** Copies the map. */
  public JdbcUrl {
    parameters = Map.copyOf(parameters);
  }

  /** Parses a single-host PostgreSQL JDBC URL; empty if it is not one. */
  public static Optional<JdbcUrl> parse(String url) {
    Matcher m = URL.matcher(url);
    if (!m.matches()) {
      return Optional.empty();
    }
    int port = m.group(2) == null ? 5432 : Integer.parseInt(m.group(2));
    Map<String, String> params = new LinkedHashMap<>();
    if (m.group(4) != null && !m.group(4).isEmpty()) {
      for (String kv : m.group(4).split("&")) {
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          continue;
        }
        params.put(
            URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    String db = URLDecoder.decode(m.group(3), StandardCharsets.UTF_8);
    return Optional.of(new JdbcUrl(m.group(1), port, db, params));
  }
}
