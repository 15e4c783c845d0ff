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
    IdempotentConsumer.Builder builder =
        IdempotentConsumer.builder()
            .dataSource(ds)
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
