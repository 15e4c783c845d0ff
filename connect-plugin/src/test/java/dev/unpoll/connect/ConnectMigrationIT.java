package dev.unpoll.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Reconciliation;
import dev.unpoll.migration.Transition;
import dev.unpoll.migration.TransitionOptions;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.migration.engine.TablePlan;
import dev.unpoll.relay.ConnectorConfig;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 14: the migration engine works the same when Kafka Connect captures. {@code plan} writes
 * the mapping, {@code capture} creates the publication and the slot, the connector configured by
 * {@code connect-config} streams from that slot, and {@code verify} reconciles the table with the
 * topic Connect writes: it finds a row whose event Connect has not published (the connector paused)
 * and is satisfied once it has.
 */
@ExtendWith(UnpollStackExtension.class)
class ConnectMigrationIT {
  static final TableName TABLE = TableName.parse("public.conn_jobs");
  static final String TOPIC = "conn_mig.jobs";
  static TestPostgres db;
  static TestKafka kafka;
  static ConnectWorker worker;

  @BeforeAll
  static void start(TestPostgres server, TestKafka broker) {
    db = server.createDatabase("connect_migration_it");
    kafka = broker;
    ConnectFixtures.connectRole(db);
    ConnectFixtures.sql(
        db,
        "create table conn_jobs (id bigserial primary key, body text not null,"
            + " status text not null default 'NEW', created_at timestamptz not null default now())",
        "insert into conn_jobs (body, status) select 'old ' || g, 'DONE' from generate_series(1,"
            + " 20) g");
    kafka.createTopic(TOPIC, 1);
    worker = ConnectWorker.start(kafka, "connect-migration-it");
  }

  @AfterAll
  static void stop() {
    if (worker != null) {
      worker.close();
    }
  }

  @Test
  void captureThenConnectThenVerify() {
    Migrations engine =
        Migrations.builder()
            .jdbcUrl(db.jdbcUrl())
            .user(db.user())
            .password(db.password())
            .kafkaBootstrap(kafka.bootstrapServers())
            .slot("conn_mig")
            .publication("conn_mig")
            .build();
    TablePlan plan = engine.plan(TABLE, TOPIC);
    assertThat(plan.ready()).as(plan.notes().toString()).isTrue();
    String yaml =
        plan.mergeInto(
            """
            source:
              jdbc-url: %s
              user: %s
              password: ${UNPOLL_DB_PASSWORD}
              slot: conn_mig
              publication: conn_mig
              heartbeat-interval: 1s
            kafka:
              bootstrap-servers: %s
            """
                .formatted(db.jdbcUrl(), ConnectFixtures.CONNECT_ROLE, kafka.bootstrapServers()));

    Transition capture =
        engine.capture(TABLE, TransitionOptions.builder().topic(TOPIC).actor("it").build());
    assertThat(capture.applied()).as(capture.toString()).isTrue();
    assertThat(engine.phase(TABLE)).isEqualTo(Phase.CAPTURING);

    UnpollConfig config = UnpollConfig.parse(yaml, Map.of(ConnectorConfig.PASSWORD_ENV, "x"));
    Map<String, String> connector =
        ConnectorConfig.of(
            config, ConnectorConfig.mappingYaml(yaml, Optional.empty()), "unpoll-conn-mig");
    HttpResponse<String> put =
        worker.put("connectors/unpoll-conn-mig/config", ConnectorConfig.json(connector));
    assertThat(put.statusCode()).as(put.body()).isIn(200, 201);
    awaitRunning();

    ConnectFixtures.sql(
        db, "insert into conn_jobs (body) select 'new ' || g from generate_series(1, 30) g");
    try (TopicReader reader = new TopicReader(kafka, TOPIC)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 30);
    }
    TransitionOptions now = TransitionOptions.builder().settle(Duration.ZERO).build();
    Reconciliation ok = engine.verify(TABLE, now);
    assertThat(ok.missingEvents()).as(ok.toString()).isZero();

    // the connector paused: a new row has no event yet, and verify says so
    assertThat(worker.put("connectors/unpoll-conn-mig/pause", "").statusCode()).isIn(200, 202);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> worker.state("unpoll-conn-mig"), s -> s.startsWith("PAUSED"));
    ConnectFixtures.sql(db, "insert into conn_jobs (body) values ('while paused')");
    Reconciliation gap = engine.verify(TABLE, now);
    assertThat(gap.missingEvents()).as(gap.toString()).isEqualTo(1);

    assertThat(worker.put("connectors/unpoll-conn-mig/resume", "").statusCode()).isIn(200, 202);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> engine.verify(TABLE, now).missingEvents() == 0);
  }

  private static void awaitRunning() {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> worker.state("unpoll-conn-mig"), s -> s.equals("RUNNING:RUNNING"));
  }
}
