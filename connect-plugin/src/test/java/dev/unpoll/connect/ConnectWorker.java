package dev.unpoll.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.testkit.TestKafka;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.connect.cli.ConnectDistributed;
import org.apache.kafka.connect.runtime.Connect;

/**
 * A real Kafka Connect worker in distributed mode, started in the test JVM from Kafka's own jars
 * against the testkit's broker, with its REST API on a free port. Workers started with the same
 * {@code group} form one cluster (their configs, offsets and statuses in the same topics).
 */
final class ConnectWorker implements AutoCloseable {

  static final ObjectMapper JSON = new ObjectMapper();

  private final Connect<?> connect;
  private final URI url;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private ConnectWorker(Connect<?> connect) {
    this.connect = connect;
    URI u = connect.rest().serverUrl();
    this.url = URI.create(u.toString().endsWith("/") ? u.toString() : u + "/");
  }

  /** Starts a worker of cluster {@code group}; plugins come from the classpath. */
  static ConnectWorker start(TestKafka kafka, String group) {
    return start(kafka, group, Map.of());
  }

  /** Starts a worker of cluster {@code group} with {@code extra} worker settings. */
  static ConnectWorker start(TestKafka kafka, String group, Map<String, String> extra) {
    Map<String, String> p = new HashMap<>();
    // tag::worker-settings[]
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("group.id", group);
    p.put("config.storage.topic", group + ".configs");
    p.put("offset.storage.topic", group + ".offsets");
    p.put("status.storage.topic", group + ".status");
    p.put("config.storage.replication.factor", "1");
    p.put("offset.storage.replication.factor", "1");
    p.put("status.storage.replication.factor", "1");
    p.put("offset.storage.partitions", "1");
    p.put("status.storage.partitions", "1");
    p.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
    p.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
    p.put("listeners", "http://127.0.0.1:0");
    // plugins from their ServiceLoader manifests (Debezium's, Kafka's, this module's): no
    // reflective scan of the whole test classpath
    p.put("plugin.discovery", "service_load");
    p.put("offset.flush.interval.ms", "1000");
    // the connector's password is ${env:UNPOLL_DB_PASSWORD}, as unpoll connect-config writes it
    p.put("config.providers", "env");
    p.put(
        "config.providers.env.class",
        "org.apache.kafka.common.config.provider.EnvVarConfigProvider");
    // a stopped worker's tasks move to the others at once, not after 5 minutes
    p.put("scheduled.rebalance.max.delay.ms", "0");
    // end::worker-settings[]
    p.putAll(extra);
    return new ConnectWorker(new ConnectDistributed().startConnect(p));
  }

  /** {@code PUT path} with a JSON body; returns the response. */
  HttpResponse<String> put(String path, String json) {
    return send(
        HttpRequest.newBuilder(url.resolve(path))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** {@code POST path} without a body. */
  HttpResponse<String> post(String path) {
    return send(
        HttpRequest.newBuilder(url.resolve(path)).POST(HttpRequest.BodyPublishers.noBody()));
  }

  /** {@code GET path}. */
  HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(url.resolve(path)).GET());
  }

  /** The connector's and its first task's state ({@code RUNNING:RUNNING}), or the HTTP error. */
  String state(String connector) {
    HttpResponse<String> r = get("connectors/" + connector + "/status");
    if (r.statusCode() != 200) {
      return "HTTP " + r.statusCode();
    }
    JsonNode s = json(r.body());
    JsonNode task = s.path("tasks").path(0);
    return s.path("connector").path("state").asText()
        + ":"
        + (task.isMissingNode() ? "NONE" : task.path("state").asText());
  }

  /** The task's trace, when it failed. */
  String trace(String connector) {
    return json(get("connectors/" + connector + "/status").body())
        .path("tasks")
        .path(0)
        .path("trace")
        .asText();
  }

  URI url() {
    return url;
  }

  static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalStateException("not JSON: " + body, e);
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder b) {
    try {
      return http.send(
          b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException("Connect REST call failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    connect.stop();
    connect.awaitStop();
  }
}
