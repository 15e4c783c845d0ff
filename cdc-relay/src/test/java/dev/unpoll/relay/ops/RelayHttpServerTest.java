package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RelayHttpServerTest {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicReference<HealthStatus> health =
      new AtomicReference<>(HealthStatus.up("engine running"));
  private final AtomicReference<HealthStatus> ready =
      new AtomicReference<>(HealthStatus.down("standby"));
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private RelayHttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private RelayHttpServer start() {
    server =
        RelayHttpServer.builder()
            .port(0)
            .bindAddress("127.0.0.1")
            .meterRegistry(registry)
            .health(health::get)
            .readiness(ready::get)
            .build()
            .start();
    return server;
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(Duration.ofSeconds(10));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void healthAndReadyAnswerWithTheirChecksAndAReason() throws Exception {
    start();

    HttpResponse<String> h = get("/health");
    HttpResponse<String> r = get("/ready");

    assertThat(h.statusCode()).isEqualTo(200);
    assertThat(h.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(h.body()).isEqualTo("{\"status\":\"UP\",\"reason\":\"engine running\"}");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("{\"status\":\"DOWN\",\"reason\":\"standby\"}");

    health.set(HealthStatus.down("slot \"orders\" is missing\n"));
    ready.set(HealthStatus.up("streaming"));

    assertThat(get("/health").statusCode()).isEqualTo(503);
    assertThat(get("/health").body())
        .isEqualTo("{\"status\":\"DOWN\",\"reason\":\"slot \\\"orders\\\" is missing\\n\"}");
    assertThat(get("/ready").statusCode()).isEqualTo(200);
  }

  @Test
  void metricsServesThePrometheusTextFormat() throws Exception {
    registry.counter("unpoll.relay.events", "table", "public.orders").increment(3);
    start();

    HttpResponse<String> m = get("/metrics");

    assertThat(m.statusCode()).isEqualTo(200);
    assertThat(m.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(m.body()).contains("unpoll_relay_events_total{table=\"public.orders\"} 3.0");
  }

  @Test
  void metricsServesOpenMetricsWhenAsked() throws Exception {
    registry.counter("unpoll.relay.events").increment();
    start();

    HttpResponse<String> m =
        get("/metrics", "Accept", "application/openmetrics-text; version=1.0.0");

    assertThat(m.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/openmetrics-text");
    assertThat(m.body()).contains("unpoll_relay_events_total").endsWith("# EOF\n");
  }

  @Test
  void aThrowingCheckIsDownWithoutItsMessage() throws Exception {
    ready.set(null);
    server =
        RelayHttpServer.builder()
            .port(0)
            .meterRegistry(registry)
            .readiness(
                () -> {
                  throw new IllegalStateException("password=hunter2");
                })
            .build()
            .start();

    HttpResponse<String> r = get("/ready");

    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("IllegalStateException").doesNotContain("hunter2");
    assertThat(get("/health").statusCode()).isEqualTo(200);
  }

  @Test
  void unknownPathIs404AndOtherMethodsAre405() throws Exception {
    start();

    assertThat(get("/nope").statusCode()).isEqualTo(404);
    HttpResponse<String> post =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
  }

  @Test
  void portInUseFailsWithTheFixAndCloseFreesThePort() throws Exception {
    start();
    int port = server.port();
    assertThat(port).isPositive();

    assertThatThrownBy(
            () ->
                RelayHttpServer.builder()
                    .port(port)
                    .bindAddress("127.0.0.1")
                    .meterRegistry(registry)
                    .readiness(ready::get)
                    .build()
                    .start())
        .isInstanceOf(RelayOpsException.class)
        .hasMessageContaining(":" + port)
        .hasMessageContaining("choose a free port");

    server.close();
    assertThatThrownBy(
            () ->
                client.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOfAny(ConnectException.class, IOException.class);
  }

  @Test
  void buildReportsEveryInvalidSettingAtOnce() {
    assertThatThrownBy(() -> RelayHttpServer.builder().port(70000).bindAddress(" ").build())
        .isInstanceOf(RelayOpsException.class)
        .hasMessageContaining("4 invalid setting(s)")
        .hasMessageContaining("port: 70000")
        .hasMessageContaining("bindAddress")
        .hasMessageContaining("meterRegistry: missing")
        .hasMessageContaining("readiness: missing");
  }

  @Test
  void headAnswersTheStatusWithoutABody() throws Exception {
    start();

    HttpResponse<String> h =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/ready"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(h.statusCode()).isEqualTo(503);
    assertThat(h.body()).isEmpty();
  }
}
