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
 * <p>Wired together by the relay's entry point, roughly:
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * SlotMonitor slots = SlotMonitor.builder()
 *     .jdbcUrl(url).user(user).password(password)
 *     .slotName(slot)
 *     .retainedWalWarningBytes(threshold)
 *     .meterRegistry(registry)
 *     .listener(s -> { if (s.state().fatal()) relay.fail(s.message()); })
 *     .build();
 * RelayHttpServer http = RelayHttpServer.builder()
 *     .port(port)
 *     .meterRegistry(registry)
 *     .health(HealthStatus.allOf(relay::health, slots::health))
 *     .readiness(HealthStatus.allOf(relay::streaming, slots::readiness))
 *     .build()
 *     .start();
 * LeaderElection election = LeaderElection.builder()
 *     .jdbcUrl(url).user(user).password(password)
 *     .lockName(lockName)
 *     .onLeadershipLost(relay::stopStreamingNow)
 *     .build();
 * GracefulShutdown.builder()
 *     .action(() -> { relay.stop(); slots.close(); http.close(); election.close(); })
 *     .build()
 *     .registerShutdownHook();
 * election.awaitLeadership();   // standby until then; /ready is down
 * relay.startStreaming();
 * slots.start();                // after the engine has created the slot on a first capture
 * }</pre>
 */
package dev.unpoll.relay.ops;
