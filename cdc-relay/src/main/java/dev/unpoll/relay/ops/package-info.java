/**
 * Operations components of the relay, each self-contained and configured with plain values:
 *
 * <ul>
 *   <li>{@link dev.unpoll.relay.ops.LeaderElection}: one streaming replica among several, by a
 *       PostgreSQL advisory lock on a dedicated session;
 *   <li>{@link dev.unpoll.relay.ops.SlotMonitor}: the replication slot's retained WAL, lag and
 *       health, as Micrometer gauges and a threshold warning;
 *   <li>{@link dev.unpoll.relay.ops.RelayHttpServer}: {@code /health}, {@code /ready}, {@code
 *       /metrics};
 *   <li>{@link dev.unpoll.relay.ops.GracefulShutdown}: the stop action on SIGTERM, with a deadline.
 * </ul>
 *
 * <p>{@link dev.unpoll.relay.RelayRunner} wires them for {@code unpoll relay}; by hand it looks
 * like this (compiled in {@code OpsWiringTest}):
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * Relay relay = Relay.builder().config(config).meterRegistry(registry).build();
 * UnpollConfig.Source src = config.source();
 * SlotMonitor slots = SlotMonitor.builder()
 *     .jdbcUrl(src.jdbcUrl()).user(src.user()).password(src.password())
 *     .slotName(src.slot())
 *     .retainedWalWarningBytes(SlotMonitor.DEFAULT_RETAINED_WAL_WARNING_BYTES)
 *     .meterRegistry(registry)
 *     .listener(s -> { if (s.state().fatal()) relay.abort(); })
 *     .build();
 * RelayHttpServer http = RelayHttpServer.builder()
 *     .port(8080)
 *     .meterRegistry(registry)
 *     .health(() -> relay.isHealthy() ? slots.health() : HealthStatus.down("relay failed"))
 *     .readiness(() -> relay.isStreaming() ? slots.readiness() : HealthStatus.down("not streaming"))
 *     .build()
 *     .start();
 * LeaderElection election = LeaderElection.builder()
 *     .jdbcUrl(src.jdbcUrl()).user(src.user()).password(src.password())
 *     .lockName("orders-relay")
 *     .onLeadershipLost(relay::abort)   // another replica may take the slot: stop at once
 *     .build();
 * GracefulShutdown.builder()
 *     .action(() -> { relay.close(); slots.close(); http.close(); election.close(); })
 *     .build()
 *     .registerShutdownHook();
 * election.awaitLeadership();   // standby until then; /ready is down
 * relay.start();
 * slots.start();                // after the engine has created the slot on a first capture
 * }</pre>
 */
package dev.unpoll.relay.ops;
