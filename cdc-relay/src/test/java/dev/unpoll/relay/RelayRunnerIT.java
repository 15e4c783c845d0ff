package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The relay as a process runs it: two replicas of one config, one streaming, HTTP endpoints that
 * tell them apart, and a standby that takes over when the leader's lock session dies.
 */
@ExtendWith(UnpollStackExtension.class)
class RelayRunnerIT {
  static TestPostgres db;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_runner_it");
    sql(db, "create table ha_q (id int primary key, note text)");
  }

  private static UnpollConfig replica(TestKafka kafka, String topic, int httpPort) {
    return RelayFixtures.config(
        db,
        RelayFixtures.baseYaml(db, kafka, "runner_it")
            + """
            tables:
              - table: ha_q
                topic: %s
            http:
              port: %d
            ha:
              enabled: true
              lock-name: relay-runner-it
            """
                .formatted(topic, httpPort));
  }

  @Test
  void streamingResumesInANewLeadershipTermWhenTheLeadersLockSessionDiesAndNoRowIsLost(
      TestKafka kafka) throws Exception {
    String topic = kafka.createUniqueTopic("runner", 1);
    ExecutorService threads = Executors.newFixedThreadPool(3);
    RelayRunner a = RelayRunner.of(replica(kafka, topic, freePort()));
    RelayRunner b = RelayRunner.of(replica(kafka, topic, freePort()));
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      Future<Integer> aExit = threads.submit(a::run);
      ReadinessSampler sampler = new ReadinessSampler(a);
      threads.submit(sampler);
      await().atMost(Duration.ofSeconds(60)).until(() -> streaming(a));
      // Ready once streaming and the slot was checked; it then stays ready (no flapping).
      await().atMost(Duration.ofSeconds(60)).until(() -> get(a, "/ready").statusCode() == 200);
      Future<Integer> bExit = threads.submit(b::run);
      await().atMost(Duration.ofSeconds(30)).until(() -> "standby".equals(b.role()));

      assertThat(get(a, "/ready").statusCode()).isEqualTo(200);
      assertThat(get(b, "/ready").statusCode()).isEqualTo(503);
      assertThat(get(b, "/ready").body()).contains("standby");
      assertThat(get(b, "/health").statusCode()).isEqualTo(200);

      sql(db, "insert into ha_q select g, 'before' from generate_series(1, 50) g");
      await().atMost(Duration.ofSeconds(60)).until(() -> ids(reader.poll()).size() == 50);
      HttpResponse<String> metrics = get(a, "/metrics");
      assertThat(metrics.body())
          .contains("unpoll_relay_events_total")
          .contains("unpoll_relay_slot_retained_wal_bytes");

      assertThat(sampler.stop())
          .as("/ready of the first leader, sampled from its start: down, then up for good")
          .isIn(List.of(503, 200), List.of(200));
      Relay firstTerm = a.relay();
      terminateLockHolder();
      // The old leader stops streaming at once and competes again as a standby, so either replica
      // may win the lock: what matters is a new term streaming, and exactly one leader.
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> streaming(b) || (streaming(a) && a.relay() != firstTerm));
      assertThat(firstTerm.isStreaming()).as("the first term stopped streaming").isFalse();
      RelayRunner leader = streaming(b) ? b : a;
      RelayRunner standby = leader == a ? b : a;
      assertThat(standby.role()).isEqualTo("standby");
      await().atMost(Duration.ofSeconds(60)).until(() -> get(leader, "/ready").statusCode() == 200);
      assertThat(get(standby, "/ready").statusCode()).isEqualTo(503);

      sql(db, "insert into ha_q select g, 'after' from generate_series(51, 100) g");
      await().atMost(Duration.ofSeconds(60)).until(() -> ids(reader.poll()).size() == 100);
      assertThat(ids(reader.settle(Duration.ofSeconds(2))))
          .isEqualTo(
              java.util.stream.IntStream.rangeClosed(1, 100)
                  .mapToObj(Integer::toString)
                  .collect(Collectors.toSet()));

      a.close();
      b.close();
      assertThat(aExit.get()).isZero();
      assertThat(bExit.get()).isZero();
    } finally {
      a.close();
      b.close();
      threads.shutdownNow();
    }
  }

  /** Polls a replica's {@code /ready} until stopped and keeps each change of the status code. */
  private final class ReadinessSampler implements Runnable {
    private final RelayRunner runner;
    private final List<Integer> changes = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean stopped;

    ReadinessSampler(RelayRunner runner) {
      this.runner = runner;
    }

    @Override
    public void run() {
      while (!stopped) {
        if (runner.httpPort() > 0) {
          try {
            int code = get(runner, "/ready").statusCode();
            if (changes.isEmpty() || changes.get(changes.size() - 1) != code) {
              changes.add(code);
            }
          } catch (IOException e) {
            // the server is not listening yet
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
        java.util.concurrent.locks.LockSupport.parkNanos(2_000_000); // sampling period
      }
    }

    List<Integer> stop() {
      stopped = true;
      return List.copyOf(changes);
    }
  }

  private static boolean streaming(RelayRunner runner) {
    Relay relay = runner.relay();
    return "leader".equals(runner.role()) && relay != null && relay.isStreaming();
  }

  private static Set<String> ids(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(RelayFixtures::key).collect(Collectors.toSet());
  }

  private HttpResponse<String> get(RelayRunner runner, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runner.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Ends the database session holding the relay's advisory lock, as a network cut would. */
  private static void terminateLockHolder() throws Exception {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                    + " WHERE locktype = 'advisory' AND granted AND database ="
                    + " (SELECT oid FROM pg_database WHERE datname = current_database())")) {
      assertThat(rs.next()).as("a session holds the advisory lock").isTrue();
      assertThat(rs.getBoolean(1)).isTrue();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
