package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The operations pieces wired as the relay wires them, against a real slot. */
@ExtendWith(UnpollStackExtension.class)
class RelayHttpServerIT {
  private static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("ops_http_it");
  }

  private static void sql(String... statements) throws Exception {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String statement : statements) {
        s.execute(statement);
      }
    }
  }

  @Test
  void slotOverTheThresholdMakesReadyDownAndShowsInMetrics() throws Exception {
    sql(
        "CREATE TABLE filler (id bigserial PRIMARY KEY, data text NOT NULL)",
        "SELECT pg_create_logical_replication_slot('http_slot', 'pgoutput')");
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AtomicBoolean streaming = new AtomicBoolean(true);
    HttpClient client = HttpClient.newHttpClient();
    try (SlotMonitor monitor =
            SlotMonitor.builder()
                .jdbcUrl(db.jdbcUrl())
                .user(db.user())
                .password(db.password())
                .slotName("http_slot")
                .pollInterval(Duration.ofMillis(200))
                .retainedWalWarningBytes(1L << 20)
                .meterRegistry(registry)
                .build()
                .start();
        RelayHttpServer server =
            RelayHttpServer.builder()
                .port(0)
                .bindAddress("127.0.0.1")
                .meterRegistry(registry)
                .health(monitor::health)
                .readiness(
                    HealthStatus.allOf(
                        () ->
                            streaming.get()
                                ? HealthStatus.up("streaming")
                                : HealthStatus.down("standby"),
                        monitor::readiness))
                .build()
                .start()) {
      URI base = URI.create("http://127.0.0.1:" + server.port());
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> status(client, base.resolve("/ready")) == 200);
      assertThat(body(client, base.resolve("/metrics")))
          .contains("unpoll_relay_slot_active{slot=\"http_slot\"} 0.0")
          .contains("unpoll_relay_slot_retained_wal_over_threshold{slot=\"http_slot\"} 0.0");

      sql(
          "INSERT INTO filler (data) SELECT md5(random()::text) || md5(random()::text)"
              + " FROM generate_series(1, 40000)");

      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> status(client, base.resolve("/ready")) == 503);
      assertThat(body(client, base.resolve("/ready"))).contains("over the threshold");
      assertThat(status(client, base.resolve("/health"))).isEqualTo(200);
      assertThat(body(client, base.resolve("/metrics")))
          .contains("unpoll_relay_slot_retained_wal_over_threshold{slot=\"http_slot\"} 1.0")
          .containsPattern("unpoll_relay_slot_retained_wal_bytes\\{slot=\"http_slot\"} [0-9.E]+")
          .containsPattern("unpoll_relay_slot_lag_bytes\\{slot=\"http_slot\"} [0-9.E]+");

      sql("SELECT pg_drop_replication_slot('http_slot')");

      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> status(client, base.resolve("/health")) == 503);
      assertThat(body(client, base.resolve("/health"))).contains("does not exist");
    }
  }

  private static int status(HttpClient client, URI uri) throws Exception {
    return client
        .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static String body(HttpClient client, URI uri) throws Exception {
    return client
        .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
