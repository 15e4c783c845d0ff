package dev.unpoll.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.InboundEvent;
import dev.unpoll.consumer.MissingKeyPolicy;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.outbox.Outbox;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The properties' defaults are the libraries' own, and the configuration processor published every
 * property, with its description and default, in {@code
 * META-INF/spring-configuration-metadata.json} (what IDEs complete).
 */
class UnpollPropertiesTest {
  static final String METADATA = "META-INF/spring-configuration-metadata.json";

  @Test
  void outboxDefaultsAreTheLibrarysDefaults() {
    UnpollOutboxProperties p = new UnpollOutboxProperties();
    Outbox defaults = Outbox.builder().build();
    Outbox bound = p.toBuilder().build();
    assertThat(p.getStrategy()).isEqualTo(Outbox.DEFAULT_STRATEGY);
    assertThat(p.getSchema()).isEqualTo(Outbox.DEFAULT_SCHEMA);
    assertThat(p.getTable()).isEqualTo(Outbox.DEFAULT_TABLE);
    assertThat(p.getWalPrefix()).isEqualTo(Outbox.DEFAULT_WAL_PREFIX);
    assertThat(p.isDeleteAfterInsert()).isEqualTo(defaults.deleteAfterInsert());
    assertThat(p.isDeferToCommit()).isFalse(); // SpringOutbox.of and its builder's default
    assertThat(bound.toString()).isEqualTo(defaults.toString());
    assertThat(bound.ddl()).isEqualTo(defaults.ddl());
  }

  @Test
  void consumerDefaultsAreTheLibrarysDefaults() {
    UnpollConsumerProperties p = new UnpollConsumerProperties();
    assertThat(p.getKeyHeader()).isEqualTo(InboundEvent.CE_ID);
    assertThat(p.getMissingKeyPolicy()).isEqualTo(MissingKeyPolicy.DEAD_LETTER);
    assertThat(p.getIdempotency().getRetention()).isEqualTo(IdempotencyStore.DEFAULT_RETENTION);
    assertThat(p.getIdempotency().getPurgeBatchSize())
        .isEqualTo(IdempotencyStore.DEFAULT_PURGE_BATCH_SIZE);
    assertThat(p.getIdempotency().getSchema()).isNull();
    RetryPolicy defaults = RetryPolicy.defaults();
    RetryPolicy bound = p.getRetry().toPolicy();
    assertThat(bound.toString()).isEqualTo(defaults.toString());
    assertThat(bound.nonRetryable()).isEqualTo(defaults.nonRetryable());
    assertThat(p.getRetry().getMaxAttempts()).isEqualTo(RetryPolicy.DEFAULT_MAX_ATTEMPTS);
    assertThat(p.getRetry().getInitialBackoff()).isEqualTo(RetryPolicy.DEFAULT_INITIAL_BACKOFF);
    assertThat(p.getRetry().getMultiplier()).isEqualTo(RetryPolicy.DEFAULT_MULTIPLIER);
    assertThat(p.getRetry().getMaxBackoff()).isEqualTo(RetryPolicy.DEFAULT_MAX_BACKOFF);
    assertThat(p.getRetry().getJitter()).isEqualTo(RetryPolicy.DEFAULT_JITTER);
  }

  @Test
  void theMetadataDescribesEveryPropertyWithItsDefault() throws IOException {
    Map<String, JsonNode> properties = metadataProperties();
    assertThat(properties.keySet())
        .containsExactlyInAnyOrder(
            "unpoll.outbox.enabled",
            "unpoll.outbox.strategy",
            "unpoll.outbox.schema",
            "unpoll.outbox.table",
            "unpoll.outbox.columns",
            "unpoll.outbox.delete-after-insert",
            "unpoll.outbox.wal-prefix",
            "unpoll.outbox.verify-schema",
            "unpoll.outbox.defer-to-commit",
            "unpoll.consumer.enabled",
            "unpoll.consumer.group",
            "unpoll.consumer.key-header",
            "unpoll.consumer.missing-key-policy",
            "unpoll.consumer.trace-as-link",
            "unpoll.consumer.idempotency.schema",
            "unpoll.consumer.idempotency.retention",
            "unpoll.consumer.idempotency.purge-batch-size",
            "unpoll.consumer.idempotency.create-tables",
            "unpoll.consumer.retry.max-attempts",
            "unpoll.consumer.retry.initial-backoff",
            "unpoll.consumer.retry.multiplier",
            "unpoll.consumer.retry.max-backoff",
            "unpoll.consumer.retry.jitter",
            "unpoll.consumer.retry.non-retryable");
    properties.forEach(
        (name, p) ->
            assertThat(p.path("description").asText()).as("description of " + name).isNotBlank());
    assertThat(properties.get("unpoll.outbox.table").get("defaultValue").asText())
        .isEqualTo(Outbox.DEFAULT_TABLE);
    assertThat(properties.get("unpoll.outbox.strategy").get("defaultValue").asText())
        .isEqualTo("table");
    assertThat(properties.get("unpoll.consumer.retry.max-attempts").get("defaultValue").asInt())
        .isEqualTo(RetryPolicy.DEFAULT_MAX_ATTEMPTS);
    assertThat(properties.get("unpoll.consumer.retry.initial-backoff").get("defaultValue").asText())
        .isEqualTo("200ms");
    assertThat(properties.get("unpoll.consumer.idempotency.retention").get("defaultValue").asText())
        .isEqualTo("7d");
  }

  /**
   * The properties of the metadata generated for this module (not another jar's file of the same
   * name), by name, in file order.
   */
  static Map<String, JsonNode> metadataProperties() throws IOException {
    Path file;
    try {
      file =
          Path.of(
                  UnpollOutboxProperties.class
                      .getProtectionDomain()
                      .getCodeSource()
                      .getLocation()
                      .toURI())
              .resolve(METADATA);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    assertThat(file).as("the configuration processor's output").isRegularFile();
    try (InputStream in = Files.newInputStream(file)) {
      JsonNode root = new ObjectMapper().readTree(in);
      Map<String, JsonNode> out = new LinkedHashMap<>();
      root.get("properties").forEach(p -> out.put(p.get("name").asText(), p));
      return out;
    }
  }
}
