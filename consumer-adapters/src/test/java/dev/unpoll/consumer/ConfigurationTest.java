package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

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
