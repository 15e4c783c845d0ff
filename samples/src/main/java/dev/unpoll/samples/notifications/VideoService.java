package dev.unpoll.samples.notifications;

import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * The video service: publishes a video and, in the same transaction, its {@code VideoPublished}
 * event through the transactional outbox. It knows nothing of the workers that notify subscribers
 * (email, SMS, WhatsApp): the relay publishes the event once to {@value #TOPIC}, and each worker
 * reads it in its own consumer group, so a slow or failing worker never holds back the service.
 */
public final class VideoService {
  /**
   * The relay's default topic for aggregate type {@code video} ({@code outbox.${aggregatetype}}).
   */
  public static final String TOPIC = "outbox.video";

  /** The event's payload. */
  public record VideoPublished(long videoId, String title, String uploader) {}

  // tag::outbox[]
  /** TABLE strategy on {@code public.unpoll_outbox}; each row is deleted right after its insert. */
  static final Outbox OUTBOX = Outbox.builder().deleteAfterInsert(true).build();

  // end::outbox[]

  private final DataSource dataSource;

  public VideoService(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Creates the service's table and the outbox table in a fresh database. */
  public static void createSchema(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS media");
      s.execute(
          "CREATE TABLE IF NOT EXISTS media.videos (id bigserial PRIMARY KEY, title text NOT NULL,"
              + " uploader text NOT NULL, published_at timestamptz NOT NULL DEFAULT now())");
      s.execute(OUTBOX.ddl());
      OUTBOX.verifySchema(c);
    }
  }

  // tag::publish[]
  /** Returns the video's id; its {@code VideoPublished} event commits with it, or neither. */
  public long publish(String title, String uploader) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        long id;
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO media.videos (title, uploader) VALUES (?, ?) RETURNING id")) {
          ps.setString(1, title);
          ps.setString(2, uploader);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            id = rs.getLong(1);
          }
        }
        OUTBOX.publish(
            c,
            OutboxEvent.builder()
                .aggregate("video", Long.toString(id)) // topic outbox.video, key = video id
                .type("VideoPublished")
                .payload(new VideoPublished(id, title, uploader))
                .build());
        c.commit();
        return id;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }
  // end::publish[]
}
