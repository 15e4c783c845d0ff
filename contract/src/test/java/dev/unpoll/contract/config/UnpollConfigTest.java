package dev.unpoll.contract.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.unpoll.contract.TableName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UnpollConfigTest {

  static final String MINIMAL =
      """
      source:
        jdbc-url: jdbc:postgresql://db:5432/orders
        user: relay
        password: ${PW}
        slot: unpoll_orders
        publication: unpoll_orders
      kafka:
        bootstrap-servers: k:9092
      tables:
        - table: public.order_integration
          topic: orders.integration
      """;

  @Test
  void readsTheReferenceExampleOfTheConfigurationPage() throws Exception {
    String page = Files.readString(Path.of("../docs/reference/configuration.md"));
    String yaml =
        page.substring(
            page.indexOf("```yaml") + 7, page.indexOf("```", page.indexOf("```yaml") + 7));
    UnpollConfig c =
        UnpollConfig.parse(yaml, Map.of("UNPOLL_DB_PASSWORD", "s3cret", "KAFKA_JAAS", "jaas"));
    assertThat(c.source().password()).isEqualTo("s3cret");
    assertThat(c.source().heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.kafka().properties()).containsEntry("sasl.jaas.config", "jaas");
    assertThat(c.outbox().orElseThrow().topicPattern()).isEqualTo("outbox.${aggregatetype}");
    assertThat(c.outbox().get().table()).contains(new TableName("public", "unpoll_outbox"));
    TableMapping t = c.tables().get(0);
    assertThat(t.table()).isEqualTo(new TableName("public", "order_integration"));
    assertThat(t.key()).containsExactly("id");
    assertThat(t.value()).isEqualTo(TableMapping.ValueMode.ROW);
    assertThat(t.bookkeepingColumns())
        .containsExactly("status", "processed_at", "retry_count", "locked_by");
    assertThat(t.status().orElseThrow().pending()).containsExactly("NEW");
    assertThat(t.status().get().inProgress()).containsExactly("PROCESSING");
    assertThat(t.status().get().failed()).containsExactly("FAILED");
    assertThat(t.backlog()).isTrue();
    assertThat(c.http().port()).isEqualTo(8080);
    assertThat(c.ha().lockName()).isEqualTo("unpoll-relay-orders");
    assertThat(c.monitoring().retainedWalWarningBytes()).isEqualTo(1L << 30);
    assertThat(c.offsets().store()).isEqualTo(UnpollConfig.OffsetStore.JDBC);
    assertThat(c.source().toString()).doesNotContain("s3cret");
  }

  @Test
  void appliesDefaults() {
    UnpollConfig c = UnpollConfig.parse(MINIMAL, Map.of("PW", "x"));
    assertThat(c.outbox()).isEmpty();
    assertThat(c.source().heartbeatInterval()).isEqualTo(UnpollConfig.DEFAULT_HEARTBEAT_INTERVAL);
    assertThat(c.tables().get(0).key()).isEmpty();
    assertThat(c.tables().get(0).backlog()).isFalse();
    assertThat(c.tables().get(0).emitUpdates()).isFalse();
    assertThat(c.ha().enabled()).isFalse();
    assertThat(c.ha().lockName()).isEqualTo("unpoll-relay-unpoll_orders");
    assertThat(c.http().port()).isEqualTo(UnpollConfig.DEFAULT_HTTP_PORT);
  }

  @Test
  void environmentDefaultsAndQuotedMixedCaseNames() {
    String yaml =
        MINIMAL.replace("${PW}", "${PW:-fallback}")
            + """
              - table: '"Sales"."OrderQueue"'
                topic: sales
                key: ['"OrderNo"', region]
            """;
    UnpollConfig c = UnpollConfig.parse(yaml, Map.of());
    assertThat(c.source().password()).isEqualTo("fallback");
    assertThat(c.tables().get(1).table()).isEqualTo(new TableName("Sales", "OrderQueue"));
    assertThat(c.tables().get(1).key()).containsExactly("OrderNo", "region");
  }

  @Test
  void collectsEveryProblemWithPathValueAndFixAndMasksSecrets() {
    String yaml =
        """
        source:
          jdbc-url: postgres://wrong
          user: relay
          password: ${MISSING_PW}
          slot: Bad-Slot
          publication: unpoll_orders
          heartbeat-interval: 10 seconds
          colour: blue
        kafka:
          properties:
            sasl.jaas.config: ${MISSING_JAAS}
            acks: 1
            enable.idempotence: false
        offsets:
          store: disk
        outbox:
          topic-pattern: "outbox/${aggregatetype}"
        tables:
          - table: public.order_integration
            topic: orders
            value: payload
            backlog: true
            emit-updates: maybe
          - table: public.order_integration
            topic: orders 2
        http:
          port: 70000
        monitoring:
          retained-wal-warning: lots
        """;
    assertThatThrownBy(() -> UnpollConfig.parse(yaml, Map.of()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              List<String> p = e.problems();
              assertThat(p)
                  .contains(
                      "source.jdbc-url: \"postgres://wrong\"; use jdbc:postgresql://host[:port]/database[?params]",
                      "source.password: ****; set the environment variable MISSING_PW or write ${MISSING_PW:-default}",
                      "source.slot: \"Bad-Slot\"; use 1 to 42 characters of a-z, 0-9 and _ (the offsets table unpoll_relay_offsets_<slot> must fit in 63)",
                      "source.heartbeat-interval: \"10 seconds\"; use a duration such as 500ms, 10s, 5m or 1h",
                      "kafka.bootstrap-servers: missing; set it to host:port[,host:port...]",
                      "kafka.properties.sasl.jaas.config: ****; set the environment variable MISSING_JAAS or write ${MISSING_JAAS:-default}",
                      "kafka.properties.acks: \"1\"; remove it: the relay needs acks=all for at-least-once",
                      "kafka.properties.enable.idempotence: \"false\"; remove it: the relay needs the idempotent producer to keep order",
                      "offsets.store: \"disk\"; use jdbc or file",
                      "tables[0].payload-column: missing; with value: payload, name the payload column",
                      "tables[0].emit-updates: \"maybe\"; use true or false",
                      "tables[1].topic: \"orders 2\"; use 1 to 249 characters of a-z, A-Z, 0-9, . _ -",
                      "http.port: 70000; use a number from 0 to 65535",
                      "monitoring.retained-wal-warning: \"lots\"; use a size such as 512MB, 1GB or plain bytes");
              assertThat(p).anyMatch(s -> s.startsWith("source.colour: unknown key; remove it"));
              assertThat(p)
                  .anyMatch(s -> s.startsWith("outbox.topic-pattern: \"outbox/${aggregatetype}\""));
              assertThat(p)
                  .anyMatch(s -> s.startsWith("tables[0].backlog: true; set status.column"));
              assertThat(e.getMessage())
                  .startsWith("invalid configuration (" + p.size() + " problems):");
            });
  }

  @Test
  void aSlotNameLongerThanTheOffsetsTableAllowsIsAProblem() {
    String fits = "s".repeat(42);
    UnpollConfig c =
        UnpollConfig.parse(
            MINIMAL.replace("slot: unpoll_orders", "slot: " + fits), Map.of("PW", "x"));
    assertThat(c.source().slot()).isEqualTo(fits);
    // "unpoll_relay_offsets_" + 43 characters is 64 bytes: PostgreSQL would truncate it silently
    // and two such slots would share one offsets table.
    assertThatThrownBy(
            () ->
                UnpollConfig.parse(
                    MINIMAL.replace("slot: unpoll_orders", "slot: " + fits + "s"),
                    Map.of("PW", "x")))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> assertThat(e.problems()).anyMatch(p -> p.startsWith("source.slot: ")));
  }

  @Test
  void aDuplicateTableAndABadTableNameAreProblems() {
    String yaml =
        MINIMAL
            + """
              - table: public.order_integration
                topic: again
              - table: 'a.b.c'
                topic: x
              - table: '"unterminated'
                topic: y
            """;
    assertThatThrownBy(() -> UnpollConfig.parse(yaml, Map.of("PW", "x")))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "tables[1].table: \"public.order_integration\"; map each table once",
                        "tables[2].table: \"a.b.c\"; expected schema.table (quote mixed case: \"Sales\".\"OrderQueue\")",
                        "tables[3].table: \"\"unterminated\"; unterminated quoted identifier"));
  }

  @Test
  void statusLearnsInProgressAndFailedValuesAndRejectsAValueListedTwice() {
    String ok =
        MINIMAL
            + """
                status: {column: status, pending: [NEW], done: [DONE], in-progress: [PROCESSING, LOCKED], failed: FAILED}
            """;
    TableMapping.Status s =
        UnpollConfig.parse(ok, Map.of("PW", "x")).tables().get(0).status().orElseThrow();
    assertThat(s.inProgress()).containsExactly("PROCESSING", "LOCKED");
    assertThat(s.failed()).containsExactly("FAILED");
    String twice =
        MINIMAL
            + """
                status: {column: status, pending: [NEW], done: [DONE], failed: [NEW]}
            """;
    assertThatThrownBy(() -> UnpollConfig.parse(twice, Map.of("PW", "x")))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "tables[0].status.failed: \"NEW\"; is also listed under status.pending;"
                            + " each status value means one thing"));
  }

  @Test
  void notYamlAndEmptyDocumentsAreReportedNotThrownRaw() {
    assertThatThrownBy(() -> UnpollConfig.parse("source: [unclosed", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> UnpollConfig.parse("", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("expected a YAML mapping");
  }

  /**
   * The Kafka Connect transformation reads only tables and outbox, each checked and worded as the
   * relay's reader does it for the same sections of a whole file.
   */
  @Test
  void theCaptureSectionsReadAloneGiveTheRelaysMappingAndProblems() {
    UnpollConfig.Capture capture =
        new ConfigReader(Map.of())
            .readCapture(
                """
                outbox:
                  topic-pattern: events.${aggregatetype}
                tables:
                  - table: public.order_integration
                    topic: orders.integration
                """);
    assertThat(capture.tables()).isEqualTo(UnpollConfig.parse(MINIMAL, Map.of("PW", "x")).tables());
    assertThat(capture.outbox().orElseThrow().topicPattern()).isEqualTo("events.${aggregatetype}");

    String badTables =
        """
        tables:
          - table: public.q
            value: blob
        """;
    ConfigException relay =
        org.junit.jupiter.api.Assertions.assertThrows(
            ConfigException.class,
            () ->
                UnpollConfig.parse(
                    MINIMAL.substring(0, MINIMAL.indexOf("tables:")) + badTables,
                    Map.of("PW", "x")));
    assertThatThrownBy(() -> new ConfigReader(Map.of()).readCapture(badTables))
        .isInstanceOf(ConfigException.class)
        .hasMessage(relay.getMessage());
    assertThatThrownBy(() -> new ConfigReader(Map.of()).readCapture(MINIMAL))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "source: unknown key; remove it; known keys here: outbox, tables",
                        "kafka: unknown key; remove it; known keys here: outbox, tables"));
    assertThatThrownBy(() -> new ConfigReader(Map.of()).readCapture(""))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tables: empty, and no outbox section");
  }

  @Test
  void readsThePollIntervalAndRefusesOneOutOfRange() {
    assertThat(UnpollConfig.parse(MINIMAL, Map.of("PW", "x")).source().pollInterval())
        .isEqualTo(UnpollConfig.DEFAULT_POLL_INTERVAL);
    String two =
        MINIMAL.replace(
            "publication: unpoll_orders", "publication: unpoll_orders\n  poll-interval: 2ms");
    assertThat(UnpollConfig.parse(two, Map.of("PW", "x")).source().pollInterval())
        .isEqualTo(java.time.Duration.ofMillis(2));
    String zero =
        MINIMAL.replace(
            "publication: unpoll_orders", "publication: unpoll_orders\n  poll-interval: 0ms");
    assertThatThrownBy(() -> UnpollConfig.parse(zero, Map.of("PW", "x")))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .contains("source.poll-interval: 0ms; use 1ms to 1s (default 10ms)"));
  }
}
