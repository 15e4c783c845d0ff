package dev.unpoll.samples.orders.boot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/** Creates the legacy schema of the order → inventory and payment sample (idempotent). */
public final class LegacySchema {
  private LegacySchema() {}

  public static void create(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql());
    }
  }

  static String sql() {
    try (InputStream in = LegacySchema.class.getResourceAsStream("legacy-schema.sql")) {
      if (in == null) {
        throw new IllegalStateException("legacy-schema.sql missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
