package dev.unpoll.samples.notifications;

import dev.unpoll.consumer.NonRetryableException;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;

/**
 * {@code unpoll demo notifications}: the video service publishes videos at a steady rate; the email
 * worker sends at once, the SMS worker is held to its gateway's rate limit, and the WhatsApp API is
 * down for the first seconds and refuses every fifth video (no opt-in). It prints, every second,
 * how many videos the service published and how many notifications each worker sent, read from the
 * effect table and the dead-letter topic, so that one sees that neither the slow nor the failing
 * worker holds back the others or the service.
 */
public final class NotificationsDemo implements AutoCloseable {

  /**
   * How long and how fast.
   *
   * @param videosPerSecond videos the service publishes per second
   * @param publishFor how long it publishes
   * @param smsPerSecond the SMS gateway's rate limit
   * @param whatsappOutage how long the WhatsApp API answers 503 from the start
   * @param directory where the servers' binaries and data live
   */
  public record Settings(
      int videosPerSecond,
      Duration publishFor,
      double smsPerSecond,
      Duration whatsappOutage,
      Path directory) {
    /** 10 videos/s for 5 s; SMS at 4/s; WhatsApp down for the first 3 s. */
    public static Settings defaults(Path directory) {
      return new Settings(10, Duration.ofSeconds(5), 4, Duration.ofSeconds(3), directory);
    }
  }

  /**
   * One second of the demo.
   *
   * @param second seconds since the service started publishing
   * @param published videos the service committed
   * @param email notifications the email worker sent
   * @param sms notifications the SMS worker sent
   * @param whatsapp notifications the WhatsApp worker sent
   * @param whatsappDeadLetters records in the WhatsApp worker's dead-letter topic
   */
  public record Tick(
      long second, long published, long email, long sms, long whatsapp, long whatsappDeadLetters) {
    /** Whether every video reached every channel: sent, or (WhatsApp) dead-lettered. */
    public boolean complete() {
      return email == published && sms == published && whatsapp + whatsappDeadLetters == published;
    }
  }

  /**
   * The outcome.
   *
   * @param last the last tick
   * @param refused videos the WhatsApp API refused (each must be in the dead-letter topic)
   * @param publishSeconds how long the service took to publish all videos
   */
  public record Summary(Tick last, long refused, double publishSeconds) {
    /** Every channel handled every video, and the dead letters are exactly the refused videos. */
    public boolean ok() {
      return last.complete() && last.whatsappDeadLetters() == refused;
    }
  }

  private final Settings settings;
  private final List<AutoCloseable> resources = new ArrayList<>();

  public NotificationsDemo(Settings settings) {
    this.settings = Objects.requireNonNull(settings);
  }

  /**
   * Starts the servers, the relay and the workers, publishes, and reports every second until every
   * channel has handled every video (or two minutes have passed).
   */
  public Summary run(Consumer<String> narrate, Consumer<Tick> onTick) throws Exception {
    narrate.accept("starting PostgreSQL 17 and Kafka 4.3 (KRaft) on this machine");
    EmbeddedPostgresServer pg =
        EmbeddedPostgresServer.builder().baseDirectory(settings.directory()).start();
    resources.add(pg);
    EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().baseDirectory(settings.directory()).start();
    resources.add(broker);
    TestPostgres db = pg.postgres().createDatabase("videos");
    TestKafka kafka = broker.kafka();
    VideoService.createSchema(db.dataSource());
    NotificationWorker.createSchema(db.dataSource());
    kafka.createTopic(VideoService.TOPIC, 2);

    Relay relay = Relay.builder().config(relayConfig(db, kafka)).build();
    resources.add(relay);
    relay.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!relay.isStreaming()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the relay did not start streaming within 60 s");
      }
      Thread.sleep(100);
    }
    narrate.accept("relay streaming public.unpoll_outbox to " + VideoService.TOPIC);

    long started = System.nanoTime();
    long outageEnds = started + settings.whatsappOutage().toNanos();
    AtomicLong refused = new AtomicLong();
    RetryPolicy patient =
        RetryPolicy.builder()
            .maxAttempts(10)
            .initialBackoff(Duration.ofMillis(200))
            .maxBackoff(Duration.ofSeconds(1))
            .build();
    Sender whatsapp =
        (n, key) -> {
          if (System.nanoTime() < outageEnds) {
            throw new IOException("503 Service Unavailable from the WhatsApp API");
          }
          if (n.videoId() % 5 == 0) {
            refused.incrementAndGet();
            throw new NonRetryableException("recipient of " + n.uploader() + " has not opted in");
          }
        };
    NotificationWorker email =
        worker(Channel.EMAIL, NotificationWorker.Settings.unlimited(), (n, key) -> {}, db, kafka);
    NotificationWorker sms =
        worker(
            Channel.SMS,
            new NotificationWorker.Settings(settings.smsPerSecond(), patient),
            (n, key) -> {},
            db,
            kafka);
    NotificationWorker wa =
        worker(Channel.WHATSAPP, new NotificationWorker.Settings(0, patient), whatsapp, db, kafka);
    narrate.accept(
        "workers: email (no limit), sms ("
            + settings.smsPerSecond()
            + "/s gateway limit), whatsapp (API down for the first "
            + settings.whatsappOutage().toSeconds()
            + " s; refuses every fifth video)");

    VideoService service = new VideoService(db.dataSource());
    AtomicLong published = new AtomicLong();
    Thread publisher =
        new Thread(() -> publish(service, published, started), "notifications-demo-video-service");
    publisher.setDaemon(true);
    publisher.start();

    String dlt = Channel.WHATSAPP.deadLetterTopic(VideoService.TOPIC);
    long publishedAllAt = 0;
    Tick tick;
    long second = 0;
    long end = started + Duration.ofMinutes(2).toNanos();
    do {
      second++;
      long due = started + Duration.ofSeconds(second).toNanos();
      long wait = due - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
      long p = published.get();
      tick = new Tick(second, p, email.sent(), sms.sent(), wa.sent(), records(kafka.admin(), dlt));
      onTick.accept(tick);
      if (publishedAllAt == 0 && !publisher.isAlive()) {
        publishedAllAt = System.nanoTime();
      }
    } while (!(tick.complete() && !publisher.isAlive()) && System.nanoTime() < end);
    publisher.join();
    double publishSeconds = publishSeconds(started, publishedAllAt);
    return new Summary(tick, refused.get(), publishSeconds);
  }

  private double publishSeconds(long started, long publishedAllAt) {
    return publishedAllAt == 0 ? Double.NaN : (publishedAllAt - started) / 1e9;
  }

  private void publish(VideoService service, AtomicLong published, long started) {
    long total = settings.videosPerSecond() * settings.publishFor().toSeconds();
    long periodNanos = 1_000_000_000L / settings.videosPerSecond();
    for (long i = 0; i < total; i++) {
      long due = started + i * periodNanos;
      long wait = due - System.nanoTime();
      try {
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        service.publish("video " + i, "uploader-" + i % 7);
        published.incrementAndGet();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        throw new IllegalStateException("the video service failed: " + e.getMessage(), e);
      }
    }
  }

  private NotificationWorker worker(
      Channel channel,
      NotificationWorker.Settings s,
      Sender sender,
      TestPostgres db,
      TestKafka kafka) {
    NotificationWorker w =
        NotificationWorker.start(
            channel, s, sender, db.dataSource(), kafka.bootstrapServers(), VideoService.TOPIC);
    resources.add(w);
    return w;
  }

  /** Records in {@code topic} (0 when it does not exist yet), from its end offsets. */
  static long records(Admin admin, String topic) throws InterruptedException {
    try {
      if (!admin.listTopics().names().get().contains(topic)) {
        return 0;
      }
      TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
      Map<TopicPartition, OffsetSpec> earliest = new java.util.HashMap<>();
      d.partitions()
          .forEach(
              p -> {
                latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
                earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest());
              });
      long end = 0;
      for (var e : admin.listOffsets(latest).all().get().values()) {
        end += e.offset();
      }
      long start = 0;
      for (var e : admin.listOffsets(earliest).all().get().values()) {
        start += e.offset();
      }
      return end - start;
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot read the offsets of " + topic, e.getCause());
    }
  }

  static UnpollConfig relayConfig(TestPostgres db, TestKafka kafka) throws IOException {
    try (InputStream in = NotificationsDemo.class.getResourceAsStream("relay.yaml")) {
      String yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return UnpollConfig.parse(
          yaml,
          Map.of(
              "VIDEOS_DB_URL", db.jdbcUrl(),
              "VIDEOS_DB_USER", db.user(),
              "VIDEOS_DB_PASSWORD", db.password(),
              "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers()));
    }
  }

  @Override
  public void close() {
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        // closing the rest matters more; the servers' data is deleted with them
      }
    }
    resources.clear();
  }
}
