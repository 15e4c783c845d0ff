package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A server that stops answering (every PostgreSQL process frozen with SIGSTOP, as a network
 * partition looks to the client) and then dies: the leader notices within its session timeout and
 * the slot monitor reports the database unreachable. Uses a private server, not the shared one.
 */
class ServerOutageIT {

  @Test
  void leaderAndSlotMonitorNoticeAServerThatStopsAnsweringAndThenDies() throws Exception {
    EmbeddedPostgresServer server = EmbeddedPostgresServer.builder().start();
    List<Long> frozen = new ArrayList<>();
    AtomicInteger lost = new AtomicInteger();
    try {
      TestPostgres pg = server.postgres();
      try (Connection c = pg.connect();
          Statement s = c.createStatement()) {
        s.execute("SELECT pg_create_logical_replication_slot('outage_slot', 'pgoutput')");
      }
      try (LeaderElection leader =
              LeaderElection.builder()
                  .jdbcUrl(pg.jdbcUrl())
                  .user(pg.user())
                  .password(pg.password())
                  .lockName("outage")
                  .sessionTimeout(Duration.ofSeconds(2))
                  .onLeadershipLost(lost::incrementAndGet)
                  .build();
          SlotMonitor monitor =
              SlotMonitor.builder()
                  .jdbcUrl(pg.jdbcUrl())
                  .user(pg.user())
                  .password(pg.password())
                  .slotName("outage_slot")
                  .pollInterval(Duration.ofMillis(500))
                  .sessionTimeout(Duration.ofSeconds(2))
                  .build()
                  .start()) {
        leader.awaitLeadership();
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> monitor.status().state() == SlotState.OK);

        frozen.add(server.pid());
        ProcessHandle.of(server.pid())
            .orElseThrow()
            .descendants()
            .forEach(p -> frozen.add(p.pid()));
        signal("STOP", frozen);
        long started = System.nanoTime();

        await().atMost(Duration.ofSeconds(20)).until(() -> lost.get() == 1);
        long noticedMs = (System.nanoTime() - started) / 1_000_000;
        assertThat(leader.isLeader()).isFalse();
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> monitor.status().state() == SlotState.UNREACHABLE);
        assertThat(monitor.readiness().up()).isFalse();
        assertThat(monitor.health().up()).as("an outage is not a reason to restart").isTrue();
        org.slf4j.LoggerFactory.getLogger(ServerOutageIT.class)
            .info("frozen server: leader noticed after {} ms", noticedMs);

        signal("CONT", frozen);
        frozen.clear();
        server.close();

        assertThat(leader.awaitLeadership(Duration.ofSeconds(2))).isFalse();
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> monitor.poll().state() == SlotState.UNREACHABLE);
      }
    } finally {
      signal("CONT", frozen);
      server.close();
    }
  }

  private static void signal(String signal, List<Long> pids) throws Exception {
    if (pids.isEmpty()) {
      return;
    }
    List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
    pids.forEach(p -> command.add(Long.toString(p)));
    Process kill = new ProcessBuilder(command).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }
}
