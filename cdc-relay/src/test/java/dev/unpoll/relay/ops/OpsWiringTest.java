package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The wiring example of this package's package-info, compiled, so it cannot call methods that do
 * not exist (issue 11). It builds the pieces; starting them needs servers (RelayRunnerIT).
 */
class OpsWiringTest {

  @Test
  void thePackageDocsWiringCompilesAndBuilds() {
    UnpollConfig config =
        UnpollConfig.parse(
            """
            source:
              jdbc-url: jdbc:postgresql://localhost:5432/orders
              user: relay
              password: ${PW}
              slot: orders_relay
              publication: orders_relay
            kafka:
              bootstrap-servers: localhost:9092
            tables:
              - table: order_integration
                topic: orders
            """,
            Map.of("PW", "secret"));
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Relay relay = Relay.builder().config(config).meterRegistry(registry).build();
    UnpollConfig.Source src = config.source();
    SlotMonitor slots =
        SlotMonitor.builder()
            .jdbcUrl(src.jdbcUrl())
            .user(src.user())
            .password(src.password())
            .slotName(src.slot())
            .retainedWalWarningBytes(SlotMonitor.DEFAULT_RETAINED_WAL_WARNING_BYTES)
            .meterRegistry(registry)
            .listener(
                s -> {
                  if (s.state().fatal()) {
                    relay.abort();
                  }
                })
            .build();
    RelayHttpServer.Builder http =
        RelayHttpServer.builder()
            .port(8080)
            .meterRegistry(registry)
            .health(() -> relay.isHealthy() ? slots.health() : HealthStatus.down("relay failed"))
            .readiness(
                () -> relay.isStreaming() ? slots.readiness() : HealthStatus.down("not streaming"));
    LeaderElection election =
        LeaderElection.builder()
            .jdbcUrl(src.jdbcUrl())
            .user(src.user())
            .password(src.password())
            .lockName("orders-relay")
            .onLeadershipLost(relay::abort)
            .build();
    GracefulShutdown shutdown =
        GracefulShutdown.builder()
            .action(
                () -> {
                  relay.close();
                  slots.close();
                  election.close();
                })
            .build();
    assertThat(http).isNotNull();
    assertThat(shutdown).isNotNull();
    election.close();
    slots.close();
  }
}
