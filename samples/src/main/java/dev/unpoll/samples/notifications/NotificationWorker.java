package dev.unpoll.samples.notifications;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.contract.Headers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * One channel's worker: reads {@code VideoPublished} events in the channel's own consumer group,
 * sends the notification through the channel's {@link Sender} at the channel's rate, and records it
 * in {@code notify.sent} in the same transaction as the event's idempotency key, so a redelivered
 * event has no second effect. Failures are retried with the channel's policy, then dead-lettered to
 * the channel's own topic; its partition moves on.
 */
public final class NotificationWorker implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How a channel's worker runs.
   *
   * @param eventsPerSecond the provider's rate limit; 0 for none
   * @param retries retries before the event goes to the channel's dead-letter topic
   */
  public record Settings(double eventsPerSecond, RetryPolicy retries) {
    /** No rate limit; three quick attempts. */
    public static Settings unlimited() {
      return new Settings(0, quickRetries(3));
    }

    /** A policy of {@code attempts} attempts, 50 ms apart, doubling. */
    public static RetryPolicy quickRetries(int attempts) {
      return RetryPolicy.builder()
          .maxAttempts(attempts)
          .initialBackoff(Duration.ofMillis(50))
          .maxBackoff(Duration.ofMillis(500))
          .jitter(Duration.ZERO)
          .build();
    }
  }

  private final Channel channel;
  private final DataSource dataSource;
  private final KafkaConsumerRunner runner;

  private NotificationWorker(Channel channel, DataSource dataSource, KafkaConsumerRunner runner) {
    this.channel = channel;
    this.dataSource = dataSource;
    this.runner = runner;
  }

  /** Creates {@code notify.sent} and the idempotency store's tables in a fresh database. */
  public static void createSchema(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS notify");
      s.execute(
          "CREATE TABLE IF NOT EXISTS notify.sent (channel text NOT NULL, video_id bigint NOT"
              + " NULL, sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
              + " PRIMARY KEY (channel, video_id))");
    }
    IdempotencyStore.builder().build().createTablesIfAbsent(dataSource);
  }

  // tag::worker[]
  /** Starts the channel's worker on {@code topic}. */
  public static NotificationWorker start(
      Channel channel,
      Settings settings,
      Sender sender,
      DataSource dataSource,
      String bootstrapServers,
      String topic) {
    IdempotentConsumer consumer =
        IdempotentConsumer.builder()
            .dataSource(dataSource)
            .consumerGroup(channel.group()) // one group per channel: each reads every event
            .handler(
                (event, connection) -> {
                  Sender.Notification n = notification(channel, event.valueAsString());
                  String ceId = event.header(Headers.ID).orElseThrow();
                  send(sender, n, ceId);
                  record(connection, n); // commits with the idempotency key, or neither
                })
            .build();
    KafkaConsumerRunner runner =
        KafkaConsumerRunner.builder()
            .bootstrapServers(bootstrapServers)
            .topics(topic)
            .consumer(consumer)
            .rateLimit(settings.eventsPerSecond()) // the provider's limit, this channel only
            .retryPolicy(settings.retries())
            .deadLetterTopic(event -> channel.deadLetterTopic(event.topic()))
            .build()
            .start();
    return new NotificationWorker(channel, dataSource, runner);
  }

  // end::worker[]

  /** Notifications this channel has sent (its effect table), from the database. */
  public long sent() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT count(*) FROM notify.sent WHERE channel = ?")) {
      ps.setString(1, channel.id());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** The channel. */
  public Channel channel() {
    return channel;
  }

  @Override
  public void close() {
    runner.close();
  }

  private static Sender.Notification notification(Channel channel, String json) {
    try {
      JsonNode v = JSON.readTree(Objects.requireNonNull(json, "the event has no value"));
      return new Sender.Notification(
          channel,
          v.path("videoId").asLong(),
          v.path("title").asText(),
          v.path("uploader").asText());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new dev.unpoll.consumer.NonRetryableException(
          "the event's value is not a VideoPublished payload: " + e.getOriginalMessage(), e);
    }
  }

  private static void send(Sender sender, Sender.Notification n, String ceId) {
    try {
      sender.send(n, ceId);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(
          n.channel().id() + " provider failed for video " + n.videoId() + ": " + e.getMessage(),
          e);
    }
  }

  private static void record(Connection connection, Sender.Notification n) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement("INSERT INTO notify.sent (channel, video_id) VALUES (?, ?)")) {
      ps.setString(1, n.channel().id());
      ps.setLong(2, n.videoId());
      ps.executeUpdate();
    }
  }
}
