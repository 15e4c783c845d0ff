package dev.unpoll.samples.notifications;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.DeadLetterHeaders;
import dev.unpoll.consumer.NonRetryableException;
import dev.unpoll.relay.Relay;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15, {@code samples/notifications}: one {@code VideoPublished} event fanned out to three
 * workers in three consumer groups. The SMS worker is held (its provider blocks until the test lets
 * it go) and the WhatsApp provider refuses some videos and fails once on another: the service still
 * publishes every video, the email worker sends every notification, the WhatsApp worker sends the
 * rest and dead-letters the refused ones to its own topic, and the SMS worker, once released,
 * catches up. Every channel sends each video at most once, counted in its effect table.
 */
@ExtendWith(UnpollStackExtension.class)
class FanOutIT {
  static final int VIDEOS = 20;

  @Test
  void aHeldAndAFailingWorkerHoldBackNeitherTheOthersNorTheService(
      TestPostgres server, TestKafka kafka) throws Exception {
    TestPostgres db = server.createDatabase("samples_notifications_it");
    VideoService.createSchema(db.dataSource());
    NotificationWorker.createSchema(db.dataSource());
    kafka.createTopic(VideoService.TOPIC, 2);

    CountDownLatch smsProviderUp = new CountDownLatch(1);
    AtomicInteger smsCalls = new AtomicInteger();
    AtomicInteger whatsappTransient = new AtomicInteger();
    Sender email = (n, key) -> {};
    Sender sms =
        (n, key) -> {
          smsCalls.incrementAndGet();
          if (!smsProviderUp.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test never released the SMS provider");
          }
        };
    Sender whatsapp =
        (n, key) -> {
          if (n.title().startsWith("private")) {
            throw new NonRetryableException("recipient has not opted in to WhatsApp");
          }
          if (n.title().equals("video 3") && whatsappTransient.getAndIncrement() == 0) {
            throw new java.io.IOException("503 from the WhatsApp API");
          }
        };

    try (Relay relay = Relay.builder().config(NotificationsDemo.relayConfig(db, kafka)).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      try (NotificationWorker emailWorker = start(Channel.EMAIL, email, db, kafka);
          NotificationWorker smsWorker = start(Channel.SMS, sms, db, kafka);
          NotificationWorker whatsappWorker = start(Channel.WHATSAPP, whatsapp, db, kafka)) {

        VideoService service = new VideoService(db.dataSource());
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < VIDEOS; i++) {
          ids.add(service.publish((i % 5 == 4 ? "private " : "video ") + i, "uploader-" + i % 3));
        }
        // the service published everything while the SMS worker is held
        assertThat(ids).hasSize(VIDEOS);

        await().atMost(Duration.ofSeconds(90)).until(() -> emailWorker.sent() == VIDEOS);
        await().atMost(Duration.ofSeconds(90)).until(() -> whatsappWorker.sent() == VIDEOS - 4);
        // video 3 failed once, then went through (a retried batch may call the provider again)
        assertThat(whatsappTransient.get()).isGreaterThanOrEqualTo(2);
        // the held worker has its first event in hand and has recorded nothing
        await().atMost(Duration.ofSeconds(60)).until(() -> smsCalls.get() >= 1);
        assertThat(smsWorker.sent()).isZero();

        String dlt = Channel.WHATSAPP.deadLetterTopic(VideoService.TOPIC);
        List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
        try (TopicReader reader = new TopicReader(kafka, dlt)) {
          await()
              .atMost(Duration.ofSeconds(60))
              .until(
                  () -> {
                    dead.addAll(reader.poll());
                    return dead.size() >= 4;
                  });
        }
        assertThat(dead).hasSize(4);
        for (ConsumerRecord<byte[], byte[]> r : dead) {
          assertThat(header(r, DeadLetterHeaders.CONSUMER_GROUP)).isEqualTo("notify-whatsapp");
          assertThat(header(r, DeadLetterHeaders.EXCEPTION_MESSAGE)).contains("opted in");
          assertThat(header(r, DeadLetterHeaders.ORIGINAL_TOPIC)).isEqualTo(VideoService.TOPIC);
        }
        Set<String> deadKeys = new TreeSet<>();
        dead.forEach(r -> deadKeys.add(new String(r.key(), StandardCharsets.UTF_8)));
        Set<String> privateIds = new TreeSet<>();
        for (int i = 4; i < VIDEOS; i += 5) {
          privateIds.add(Long.toString(ids.get(i)));
        }
        assertThat(deadKeys).isEqualTo(privateIds);
        // the other channels' dead-letter topics stay empty (nothing of theirs failed)
        assertThat(kafka.admin().listTopics().names().get())
            .doesNotContain(Channel.EMAIL.deadLetterTopic(VideoService.TOPIC));

        smsProviderUp.countDown();
        await().atMost(Duration.ofSeconds(90)).until(() -> smsWorker.sent() == VIDEOS);
        assertThat(sentPerChannel(db))
            .containsExactlyInAnyOrderEntriesOf(
                Map.of("email", (long) VIDEOS, "sms", (long) VIDEOS, "whatsapp", VIDEOS - 4L));
      }
    }
  }

  private static NotificationWorker start(
      Channel channel, Sender sender, TestPostgres db, TestKafka kafka) {
    return NotificationWorker.start(
        channel,
        new NotificationWorker.Settings(0, NotificationWorker.Settings.quickRetries(3)),
        sender,
        db.dataSource(),
        kafka.bootstrapServers(),
        VideoService.TOPIC);
  }

  private static Map<String, Long> sentPerChannel(TestPostgres db) throws Exception {
    Map<String, Long> out = new java.util.HashMap<>();
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT channel, count(*) FROM notify.sent GROUP BY channel")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getLong(2));
      }
    }
    return out;
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
