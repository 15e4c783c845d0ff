package dev.unpoll.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.contract.Headers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The consumer under test, run as its own process ({@link #main}): the idempotent consumer with a
 * handler whose effect is one row in {@code fi.effects} per application. The table has no unique
 * constraint on purpose: an effect applied twice shows as two rows instead of a constraint error.
 */
public final class LedgerConsumer {
  static final String DDL =
      "CREATE SCHEMA IF NOT EXISTS fi;"
          + " CREATE TABLE IF NOT EXISTS fi.effects (n bigserial PRIMARY KEY, event_id text NOT"
          + " NULL, kind text NOT NULL, k text, seq bigint, applied_at timestamptz NOT NULL"
          + " DEFAULT clock_timestamp())";

  static final String GROUP = "fault-ledger";
  static final String PASSWORD_VARIABLE = "FI_DB_PASSWORD";

  /** System property: the consumer group, {@value #GROUP} by default. */
  static final String GROUP_PROPERTY = "fi.group";

  /**
   * System property: the process halts (as abruptly as SIGKILL: no shutdown hook, no finally) right
   * after its N-th database commit that applied effects, before the runner commits the Kafka
   * offsets of those records: the window between the two commits, hit on purpose.
   */
  static final String HALT_AFTER_COMMIT_PROPERTY = "fi.halt-after-commit";

  /** System property: the process halts inside the handler, at its N-th effect (mid-handler). */
  static final String HALT_IN_HANDLER_PROPERTY = "fi.halt-in-handler";

  /** What a halting consumer prints just before it halts. */
  static final String HALTING = "ledger consumer halting ";

  private static final java.util.concurrent.atomic.AtomicBoolean EFFECT_IN_TRANSACTION =
      new java.util.concurrent.atomic.AtomicBoolean();
  private static final java.util.concurrent.atomic.AtomicLong EFFECTS =
      new java.util.concurrent.atomic.AtomicLong();

  /** System property: {@code true} claims each fi.jobs row from the poller (dual-run). */
  static final String CLAIM_PROPERTY = "fi.claim";

  private static final ObjectMapper JSON = new ObjectMapper();

  private LedgerConsumer() {}

  static void createSchema(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(DDL);
    }
    IdempotencyStore.builder().build().createTablesIfAbsent(dataSource);
  }

  /**
   * Args: bootstrap servers, JDBC URL, user, then the topics; the password from the environment.
   */
  public static void main(String[] args) throws Exception {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(args[1]);
    ds.setUser(args[2]);
    ds.setPassword(System.getenv(PASSWORD_VARIABLE));
    Long haltAfterCommit = Long.getLong(HALT_AFTER_COMMIT_PROPERTY);
    IdempotentConsumer.Builder builder =
        IdempotentConsumer.builder()
            .dataSource(haltAfterCommit == null ? ds : haltingAfterCommit(ds, haltAfterCommit))
            .consumerGroup(System.getProperty(GROUP_PROPERTY, GROUP));
    if (Boolean.getBoolean(CLAIM_PROPERTY)) {
      // dual-run: the poller still works on fi.jobs; the consumer claims a row before handling it
      builder.claim(
          dev.unpoll.consumer.DualRunClaim.builder()
              .schema("fi")
              .table("jobs")
              .keyColumns("id")
              .statusColumn("status")
              .pendingValues("NEW")
              .doneValue("DONE")
              .inProgressValues("WORKING")
              .failedValues("FAILED")
              .build());
    }
    IdempotentConsumer consumer =
        builder
            .handler(
                (event, connection) -> {
                  String id = event.header(Headers.ID).orElseThrow();
                  boolean outbox = !id.startsWith("fi.jobs:");
                  String k = null;
                  Long seq = null;
                  if (outbox) {
                    JsonNode v = payload(event.valueAsString());
                    if (v.path("throw").asBoolean()) {
                      throw new IllegalStateException("the handler always fails on this event");
                    }
                    k = v.path("k").asText();
                    seq = v.path("seq").asLong();
                  }
                  apply(connection, id, outbox ? "outbox" : "legacy", k, seq);
                  EFFECT_IN_TRANSACTION.set(true);
                  Long haltIn = Long.getLong(HALT_IN_HANDLER_PROPERTY);
                  if (haltIn != null && EFFECTS.incrementAndGet() == haltIn) {
                    halt("inside the handler at effect #" + haltIn + ", its transaction open");
                  }
                })
            .build();
    String[] topics = java.util.Arrays.copyOfRange(args, 3, args.length);
    CountDownLatch stopped = new CountDownLatch(1);
    KafkaConsumerRunner runner =
        KafkaConsumerRunner.builder()
            .bootstrapServers(args[0])
            .topics(topics)
            .consumer(consumer)
            .kafkaProperty("max.poll.records", 200)
            // a killed member's partitions move after this, not after the default 45 s
            .kafkaProperty("session.timeout.ms", 6_000)
            .kafkaProperty("heartbeat.interval.ms", 1_000)
            .build()
            .start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  runner.close();
                  stopped.countDown();
                }));
    System.out.println("ledger consumer running on " + String.join(",", topics));
    stopped.await();
  }

  private static JsonNode payload(String json) {
    try {
      return JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new dev.unpoll.consumer.NonRetryableException("not JSON: " + e.getOriginalMessage());
    }
  }

  /**
   * {@code ds} whose connections halt the process right after the {@code n}-th commit of a
   * transaction that applied effects: the database has the effects, Kafka not yet the offsets.
   */
  private static DataSource haltingAfterCommit(DataSource ds, long n) {
    java.util.concurrent.atomic.AtomicLong commits = new java.util.concurrent.atomic.AtomicLong();
    return (DataSource)
        java.lang.reflect.Proxy.newProxyInstance(
            LedgerConsumer.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              Object result = invoke(ds, method, args);
              if (!(result instanceof Connection c)) {
                return result;
              }
              return java.lang.reflect.Proxy.newProxyInstance(
                  LedgerConsumer.class.getClassLoader(),
                  new Class<?>[] {Connection.class},
                  (p, m, a) -> {
                    Object r = invoke(c, m, a);
                    if (m.getName().equals("commit")
                        && EFFECT_IN_TRANSACTION.getAndSet(false)
                        && commits.incrementAndGet() == n) {
                      halt("after database commit #" + n + ", before the offset commit");
                    }
                    if (m.getName().equals("rollback")) {
                      EFFECT_IN_TRANSACTION.set(false);
                    }
                    return r;
                  });
            });
  }

  private static Object invoke(Object target, java.lang.reflect.Method m, Object[] args)
      throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void halt(String where) {
    System.out.println(HALTING + where);
    System.out.flush();
    Runtime.getRuntime().halt(137);
  }

  static void apply(Connection c, String id, String kind, String k, Long seq) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO fi.effects (event_id, kind, k, seq) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, id);
      ps.setString(2, kind);
      ps.setString(3, k);
      if (seq == null) {
        ps.setNull(4, java.sql.Types.BIGINT);
      } else {
        ps.setLong(4, seq);
      }
      ps.executeUpdate();
    }
  }
}
