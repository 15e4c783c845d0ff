package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** dev up starts its own PostgreSQL and Kafka, prints how to connect, and cleans up. */
class DevUpIT {
  @TempDir Path dir;

  @Test
  void startsBothServersPrintsTheSettingsAndCleansUpWhenInterrupted() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Unpoll.commandLine(Map.of(), false);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    AtomicInteger exit = new AtomicInteger(-1);
    Path dataDirectory = null;
    Thread t =
        new Thread(() -> exit.set(cl.execute("dev", "up", "--json", "--dir", dir.toString())));
    t.start();
    try {
      await()
          .atMost(Duration.ofMinutes(2))
          .until(() -> out.toString().contains("bootstrapServers"));
      JsonNode settings = Cli.JSON.readTree(out.toString());
      try (Connection c =
              DriverManager.getConnection(
                  settings.get("jdbcUrl").asText(),
                  settings.get("user").asText(),
                  settings.get("password").asText());
          ResultSet rs =
              c.createStatement()
                  .executeQuery(
                      "SELECT current_setting('wal_level'), current_setting('data_directory')")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("logical");
        dataDirectory = Path.of(rs.getString(2));
      }
      assertThat(dataDirectory).isDirectory();
      try (Admin admin =
          Admin.create(Map.of("bootstrap.servers", settings.get("bootstrapServers").asText()))) {
        assertThat(admin.describeCluster().nodes().get()).hasSize(1);
      }
    } finally {
      t.interrupt();
      t.join(Duration.ofMinutes(1).toMillis());
    }
    assertThat(t.isAlive()).isFalse();
    assertThat(exit.get()).isZero();
    assertThat(dataDirectory).isNotNull();
    assertThat(Files.exists(dataDirectory)).as("data directory deleted").isFalse();
  }
}
