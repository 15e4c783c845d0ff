package dev.unpoll.samples.orders.migrated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.contract.Headers;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.samples.orders.LegacySchema;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15: one trace from the service's business transaction to the consumer's handler, across the
 * real relay and broker. The outbox captures the current W3C trace context into the event, the
 * relay carries it as {@code ce_traceparent}, and the consumer runs the handler in a span that is
 * the child of the service's span (or links to it).
 */
@ExtendWith(UnpollStackExtension.class)
class TraceContextIT {

  @Test
  void theHandlersSpanIsAChildOfTheServicesSpanAcrossTheRelayAndTheBroker(
      TestPostgres server, TestKafka kafka) throws Exception {
    TestPostgres db = server.createDatabase("samples_trace_context_it");
    LegacySchema.create(db.dataSource());
    OrderServiceWithOutbox.createOutboxTable(db.dataSource());
    IdempotencyStore.builder().build().createTablesIfAbsent(db.dataSource());
    // its own slot and topic: slot names are cluster-wide, and OutboxMigrationIT runs the
    // samples' relay-outbox.yaml on the same servers
    String suffix = java.util.UUID.randomUUID().toString().substring(0, 8);
    String topic = "traced-order-" + suffix;
    kafka.createTopic(topic, 1);
    String yaml =
        """
        source:
          jdbc-url: ${ORDERS_DB_URL}
          user: ${ORDERS_DB_USER}
          password: ${ORDERS_DB_PASSWORD}
          slot: unpoll_trace_context_it
          publication: unpoll_trace_context_it
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: ${KAFKA_BOOTSTRAP_SERVERS}
        outbox:
          table: public.unpoll_outbox
          topic-pattern: traced-${aggregatetype}-%s
        http:
          port: 0
        """
            .formatted(suffix);

    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    OpenTelemetrySdk otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                    .build())
            .build();
    GlobalOpenTelemetry.resetForTest();
    GlobalOpenTelemetry.set(otel);
    try (Relay relay =
        Relay.builder().config(UnpollConfig.parse(yaml, Db.relayEnv(db, kafka))).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);

      Map<String, SpanContext> handlerSpans = new ConcurrentHashMap<>();
      Map<String, SpanContext> linkedSpans = new ConcurrentHashMap<>();
      Tracer tracer = otel.getTracer("orders-service");
      Span service = tracer.spanBuilder("place order").startSpan();
      long orderId;
      try (Scope ignored = service.makeCurrent()) {
        orderId = new OrderServiceWithOutbox(db.dataSource()).placeOrder("traced", BigDecimal.TEN);
      } finally {
        service.end();
      }
      // an order written outside any span: its event carries no trace context, and nothing breaks
      long untraced =
          new OrderServiceWithOutbox(db.dataSource()).placeOrder("untraced", BigDecimal.ONE);

      try (KafkaConsumerRunner child =
              runner(kafka, db, topic, "trace-child", false, handlerSpans);
          KafkaConsumerRunner link = runner(kafka, db, topic, "trace-link", true, linkedSpans)) {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> handlerSpans.size() >= 2 && linkedSpans.size() >= 2);
      }

      SpanContext childOf = handlerSpans.get(Long.toString(orderId));
      assertThat(childOf.getTraceId()).isEqualTo(service.getSpanContext().getTraceId());
      SpanData childData = span(exporter, childOf);
      assertThat(childData.getParentSpanId()).isEqualTo(service.getSpanContext().getSpanId());
      assertThat(childData.getName()).isEqualTo(topic + " process");
      assertThat(childData.getAttributes().asMap().toString()).contains("messaging.message.id");

      SpanContext linked = linkedSpans.get(Long.toString(orderId));
      assertThat(linked.getTraceId()).isNotEqualTo(service.getSpanContext().getTraceId());
      assertThat(span(exporter, linked).getLinks())
          .extracting(l -> l.getSpanContext().getSpanId())
          .containsExactly(service.getSpanContext().getSpanId());

      SpanContext root = handlerSpans.get(Long.toString(untraced));
      assertThat(root.isValid()).isTrue();
      assertThat(span(exporter, root).getParentSpanContext().isValid()).isFalse();
    } finally {
      GlobalOpenTelemetry.resetForTest();
      otel.close();
    }
  }

  private static KafkaConsumerRunner runner(
      TestKafka kafka,
      TestPostgres db,
      String topic,
      String group,
      boolean link,
      Map<String, SpanContext> seen) {
    IdempotentConsumer consumer =
        IdempotentConsumer.builder()
            .dataSource(db.dataSource())
            .consumerGroup(group)
            .traceAsLink(link)
            .handler(
                (event, connection) -> {
                  assertThat(event.header(Headers.ID)).isPresent();
                  seen.put(event.keyAsString(), Span.current().getSpanContext());
                })
            .build();
    return KafkaConsumerRunner.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topic)
        .consumer(consumer)
        .build()
        .start();
  }

  private static SpanData span(InMemorySpanExporter exporter, SpanContext context) {
    List<SpanData> all = exporter.getFinishedSpanItems();
    return all.stream()
        .filter(s -> s.getSpanId().equals(context.getSpanId()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no finished span " + context + " in " + all));
  }
}
