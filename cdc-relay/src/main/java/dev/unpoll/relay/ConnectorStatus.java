package dev.unpoll.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The state of every connector of a Kafka Connect cluster and of its tasks, from its REST API
 * ({@code GET /connectors?expand=status}): what {@code unpoll status --connect-url} shows.
 *
 * @param name the connector
 * @param state the connector's state ({@code RUNNING}, {@code PAUSED}, {@code FAILED}, ...)
 * @param workerId the worker running the connector
 * @param tasks its tasks
 */
public record ConnectorStatus(String name, String state, String workerId, List<Task> tasks) {

  /** How long a call to the REST API may take. */
  public static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Copies the list. */
  public ConnectorStatus {
    tasks = List.copyOf(tasks);
  }

  /**
   * One task.
   *
   * @param id the task's number
   * @param state its state
   * @param workerId the worker running it
   * @param error the first line of its trace when it failed, or null
   */
  public record Task(int id, String state, String workerId, String error) {}

  /**
   * Every connector of the cluster at {@code url}, sorted by name.
   *
   * @throws RelayException when the REST API cannot be reached or answers with an error
   */
  public static List<ConnectorStatus> fetch(URI url) {
    String base = url.toString().endsWith("/") ? url.toString() : url + "/";
    URI uri = URI.create(base + "connectors?expand=status");
    HttpResponse<String> r;
    try {
      r =
          HttpClient.newBuilder()
              .connectTimeout(TIMEOUT)
              .build()
              .send(
                  HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build(),
                  HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new RelayException(
          "cannot reach Kafka Connect at " + url + " (" + e + "); check --connect-url", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RelayException("interrupted while asking Kafka Connect at " + url, e);
    }
    if (r.statusCode() != 200) {
      throw new RelayException(
          "Kafka Connect at " + url + " answered HTTP " + r.statusCode() + " to GET " + uri);
    }
    JsonNode root;
    try {
      root = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new RelayException("Kafka Connect at " + url + " answered no JSON to GET " + uri, e);
    }
    List<ConnectorStatus> all = new ArrayList<>();
    Iterator<String> names = root.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      JsonNode s = root.path(name).path("status");
      List<Task> tasks = new ArrayList<>();
      for (JsonNode t : s.path("tasks")) {
        String trace = t.path("trace").asText(null);
        tasks.add(
            new Task(
                t.path("id").asInt(),
                t.path("state").asText(),
                t.path("worker_id").asText(),
                trace == null ? null : trace.lines().findFirst().orElse(trace)));
      }
      all.add(
          new ConnectorStatus(
              name,
              s.path("connector").path("state").asText(),
              s.path("connector").path("worker_id").asText(),
              tasks));
    }
    all.sort(java.util.Comparator.comparing(ConnectorStatus::name));
    return all;
  }

  /** One line: {@code connector <name>: RUNNING on <worker>; task 0 RUNNING on <worker>}. */
  public String line() {
    StringBuilder b =
        new StringBuilder("connector ")
            .append(name)
            .append(": ")
            .append(state)
            .append(" on ")
            .append(workerId);
    if (tasks.isEmpty()) {
      b.append("; no task");
    }
    for (Task t : tasks) {
      b.append("; task ").append(t.id()).append(' ').append(t.state()).append(" on ");
      b.append(t.workerId());
      if (t.error() != null) {
        b.append(" (").append(t.error()).append(')');
      }
    }
    return b.toString();
  }
}
