package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.ConfigException;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.UnpollConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigurationTest {
  @Test
  void idempotentConsumerReportsEveryProblemAtOnce() {
    assertThatThrownBy(
            () ->
                IdempotentConsumer.builder()
                    .consumerGroup(" ")
                    .shadow()
                    .handler((e, c) -> {})
                    .keyExtractor(null)
                    .build())
        .isInstanceOf(ConsumerException.class)
        .hasMessageContaining("dataSource: missing")
        .hasMessageContaining("consumerGroup: ' ' must be a non-blank group id")
        .hasMessageContaining("keyExtractor: missing")
        .hasMessageContaining("handler: shadow mode never runs a handler");
  }

  @Test
  void runnerReportsEveryProblemAtOnce() {
    assertThatThrownBy(
            () ->
                KafkaConsumerRunner.builder()
                    .concurrency(0)
                    .rateLimit(-1)
                    .kafkaProperty("enable.auto.commit", true)
                    .kafkaProperty("group.id", "other")
                    .build())
        .isInstanceOf(ConsumerException.class)
        .hasMessageContaining("bootstrapServers: missing")
        .hasMessageContaining("topics: [] must name at least one topic")
        .hasMessageContaining("consumer: missing")
        .hasMessageContaining("concurrency: 0 must be at least 1")
        .hasMessageContaining("rateLimit: -1.0")
        .hasMessageContaining("kafkaProperty enable.auto.commit: set by the runner")
        .hasMessageContaining("kafkaProperty group.id: set by the runner");
  }

  @Test
  void runnerRejectsRetriesThatOutlastTheMaxPollInterval() {
    assertThatThrownBy(
            () ->
                KafkaConsumerRunner.builder()
                    .bootstrapServers("localhost:9092")
                    .topics("t")
                    .kafkaProperty("max.poll.interval.ms", 60_000)
                    .retryPolicy(
                        RetryPolicy.builder()
                            .maxAttempts(10)
                            .maxBackoff(Duration.ofSeconds(10))
                            .build())
                    .build())
        .hasMessageContaining("retryPolicy: retries of one record can wait up to")
        .hasMessageContaining("max.poll.interval.ms (60000 ms)");
  }

  @Test
  void claimRejectsIdentifiersPostgresqlWouldNotTakeAndQuotesTheRest() {
    // a quote or a semicolon is a legal quoted name, always quoted, so never SQL
    assertThat(
            DualRunClaim.builder()
                .table("orders\"; DROP TABLE x; --")
                .keyColumns("id")
                .build()
                .qualifiedTable())
        .isEqualTo("\"orders\"\"; DROP TABLE x; --\"");
    assertThatThrownBy(
            () ->
                DualRunClaim.builder()
                    .table("x".repeat(64))
                    .keyColumns("id", null)
                    .pendingValues("DONE")
                    .build())
        .isInstanceOf(ConsumerException.class)
        .hasMessageContaining(
            "is not a valid identifier (1 to 63 bytes of UTF-8, no NUL character)")
        .hasMessageContaining("keyColumns[1]: 'null' is not a valid identifier")
        .hasMessageContaining("doneValue: 'DONE' is also a pending value");
  }

  @Test
  void claimRejectsAStatusValueThatMeansTwoThings() {
    assertThatThrownBy(
            () ->
                DualRunClaim.builder()
                    .table("orders")
                    .keyColumns("id")
                    .pendingValues("NEW")
                    .doneValue("DONE")
                    .inProgressValues("PROCESSING", "NEW")
                    .failedValues("FAILED", "PROCESSING")
                    .otherDoneValues("FAILED")
                    .build())
        .isInstanceOf(ConsumerException.class)
        .hasMessageContaining("inProgressValues: 'NEW' is also a pending or the done value")
        .hasMessageContaining("inProgressValues: 'PROCESSING' is also a failed or done value")
        .hasMessageContaining("failedValues: 'FAILED' is also a done value");
  }

  /** The mapping is written once, in unpoll.yaml; the claim is built from it. */
  @Test
  void claimFromTheMappingInUnpollYaml(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("unpoll.yaml");
    Files.writeString(
        file,
        """
        source: {jdbc-url: "${NOT_SET_HERE}", password: "${NOR_THIS}"}
        tables:
          - table: '"Legacy"."Order Queue"'
            topic: legacy.orders
            key: [id, region]
            status:
              column: '"State"'  # quoted as in SQL: unquoted names fold to lower case
              pending: [NEW, RETRY]
              done: [DONE, SKIPPED]
              in-progress: [WORKING]
              failed: [FAILED]
          - table: legacy.no_status
            topic: legacy.no-status
        """);
    // only the tables section is read: the relay's secrets need not be set in the application
    // tag::claim-from-mapping[]
    TableMapping mapping = UnpollConfig.loadMapping(file, "\"Legacy\".\"Order Queue\"", Map.of());
    DualRunClaim claim = DualRunClaim.from(mapping).processedAtColumn("Done At").build();
    // end::claim-from-mapping[]
    assertThat(claim.sql())
        .isEqualTo(
            "UPDATE \"Legacy\".\"Order Queue\" SET \"State\" = ?, \"Done At\" = now() WHERE"
                + " \"id\" = ? AND \"region\" = ? AND \"State\" IN (?, ?)");
    assertThat(claim.doneValues()).containsExactly("DONE", "SKIPPED");
    assertThat(claim.inProgressValues()).containsExactly("WORKING");
    assertThat(claim.failedValues()).containsExactly("FAILED");

    TableMapping noStatus = UnpollConfig.loadMapping(file, "legacy.no_status", Map.of());
    assertThatThrownBy(() -> DualRunClaim.from(noStatus).build())
        .isInstanceOf(ConsumerException.class)
        .hasMessageContaining("status: the mapping of legacy.no_status has no status section")
        .hasMessageContaining("add status: {column: .., pending: [..], done: [..]}");
    assertThatThrownBy(() -> UnpollConfig.loadMapping(file, "legacy.absent", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("does not map legacy.absent")
        .hasMessageContaining("unpoll plan --table legacy.absent");
  }

  @Test
  void claimFromAMappingWithoutKeyColumnsNamesTheSettingToAdd() {
    TableMapping keyless =
        new TableMapping(
            TableName.parse("legacy.jobs"),
            "jobs",
            List.of(),
            TableMapping.ValueMode.ROW,
            Optional.empty(),
            Optional.empty(),
            List.of(),
            Optional.of(new TableMapping.Status("status", List.of("NEW"), List.of())),
            false,
            false,
            false);
    assertThatThrownBy(() -> DualRunClaim.from(keyless).build())
        .isInstanceOf(ConsumerException.class)
        .hasMessageContaining("key: the mapping of legacy.jobs names no key columns")
        .hasMessageContaining("status.done: the mapping of legacy.jobs has no done value");
  }

  @Test
  void aQualifiedNameGivenToTableSaysToUseSchema() {
    assertThatThrownBy(
            () -> DualRunClaim.builder().table("shop.order_integration").keyColumns("id").build())
        .isInstanceOf(ConsumerException.class)
        .hasMessageContaining("looks schema-qualified")
        .hasMessageContaining("schema(\"shop\").table(\"order_integration\")");
    // with the schema set, a dot is part of the table's own name
    assertThat(
            DualRunClaim.builder()
                .schema("shop")
                .table("order.v1")
                .keyColumns("id")
                .build()
                .qualifiedTable())
        .isEqualTo("\"shop\".\"order.v1\"");
  }

  @Test
  void claimQuotesEveryIdentifier() {
    DualRunClaim claim =
        DualRunClaim.builder()
            .schema("Legacy")
            .table("Order Queue")
            .keyColumns("id", "region")
            .statusColumn("State")
            .pendingValues("NEW", "RETRY")
            .processedAtColumn("Done At")
            .build();
    assertThat(claim.sql())
        .isEqualTo(
            "UPDATE \"Legacy\".\"Order Queue\" SET \"State\" = ?, \"Done At\" = now() WHERE"
                + " \"id\" = ? AND \"region\" = ? AND \"State\" IN (?, ?)");
  }

  @Test
  void storeReportsEveryProblemAtOnce() {
    assertThatThrownBy(
            () ->
                IdempotencyStore.builder()
                    .schema("bad\0schema")
                    .retention(Duration.ZERO)
                    .purgeBatchSize(0)
                    .build())
        .hasMessageContaining("schema: 'bad\0schema' is not a valid identifier")
        .hasMessageContaining("retention: PT0S must be a positive duration")
        .hasMessageContaining("purgeBatchSize: 0 must be at least 1");
  }

  @Test
  void shippedDdlIsTheDdlOfTheCurrentSchema() {
    assertThat(IdempotencyStore.shippedDdl()).isEqualTo(IdempotencyStore.ddlFor(null));
    assertThat(IdempotencyStore.builder().schema("ops").build().ddl())
        .contains("CREATE TABLE IF NOT EXISTS \"ops\".\"unpoll_processed\"")
        .contains("CREATE TABLE IF NOT EXISTS \"ops\".\"unpoll_shadow_ledger\"");
  }
}
