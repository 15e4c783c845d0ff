package dev.unpoll.cli;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A legacy integration table, events as the relay would publish them, consumer records. */
final class Fixtures {
  private Fixtures() {}

  static void sql(TestPostgres db, String... statements) {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String st : statements) {
        s.execute(st);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static long number(TestPostgres db, String query) {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String text(TestPostgres db, String query) {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The integration table of DESIGN.md. */
  static void integrationTable(TestPostgres db, String table) {
    sql(
        db,
        "CREATE TABLE "
            + table
            + " (id bigserial PRIMARY KEY, order_id bigint NOT NULL,"
            + " event_type text NOT NULL, payload jsonb, status text NOT NULL DEFAULT 'NEW',"
            + " created_at timestamptz NOT NULL DEFAULT now(), processed_at timestamptz,"
            + " retry_count int NOT NULL DEFAULT 0)");
  }

  /** Inserts n rows with status NEW; returns their ids. */
  static List<Long> insert(TestPostgres db, String table, int n) {
    List<Long> ids = new ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + table
                    + " (order_id, event_type, payload)"
                    + " VALUES (?, 'OrderCreated', ?::jsonb) RETURNING id")) {
      for (int i = 0; i < n; i++) {
        ps.setLong(1, 1000 + i);
        ps.setString(2, "{\"orderId\":" + (1000 + i) + "}");
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          ids.add(rs.getLong(1));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return ids;
  }

  /** The poller handles the rows: status DONE, processed_at now. */
  static void pollerHandles(TestPostgres db, String table, List<Long> ids) {
    for (long id : ids) {
      sql(
          db,
          "UPDATE "
              + table
              + " SET status = 'DONE', processed_at = now() + interval '20 ms'"
              + " WHERE id = "
              + id);
    }
  }

  /** Publishes the rows' events as the relay would (headers of docs/reference/event-format.md). */
  static void publish(TestKafka kafka, String topic, String rawTable, List<Long> ids) {
    publishAt(kafka, topic, rawTable, ids, null);
  }

  /** Publishes with the given record timestamp (null: now). */
  static void publishAt(
      TestKafka kafka, String topic, String rawTable, List<Long> ids, Instant timestamp) {
    try (KafkaProducer<byte[], byte[]> p = kafka.newProducer()) {
      for (long id : ids) {
        ProducerRecord<byte[], byte[]> r =
            new ProducerRecord<>(
                topic,
                null,
                timestamp == null ? null : timestamp.toEpochMilli(),
                bytes(Long.toString(id)),
                bytes("{\"orderId\":" + (1000 + id) + "}"));
        r.headers()
            .add("ce_specversion", bytes("1.0"))
            .add("ce_id", bytes(rawTable + ":" + id))
            .add("ce_source", bytes("/unpoll/test/" + rawTable))
            .add("ce_type", bytes(rawTable + ".inserted"))
            .add("ce_time", bytes(Instant.now().toString()))
            .add("content-type", bytes("application/json"));
        p.send(r);
      }
      p.flush();
    }
  }

  static void consumerTables(TestPostgres db) {
    sql(
        db,
        "CREATE TABLE IF NOT EXISTS unpoll_processed (consumer_group text NOT NULL,"
            + " idempotency_key text NOT NULL, processed_at timestamptz NOT NULL DEFAULT now(),"
            + " PRIMARY KEY (consumer_group, idempotency_key))",
        "CREATE TABLE IF NOT EXISTS unpoll_shadow_ledger (consumer_group text NOT NULL,"
            + " idempotency_key text NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),"
            + " event_time timestamptz)");
  }

  /** The shadow consumer recorded the rows' events. */
  static void ledger(TestPostgres db, String group, String rawTable, List<Long> ids) {
    for (long id : ids) {
      sql(
          db,
          "INSERT INTO unpoll_shadow_ledger (consumer_group, idempotency_key, received_at,"
              + " event_time) VALUES ('"
              + group
              + "', '"
              + rawTable
              + ":"
              + id
              + "', now(), now() - interval '15 ms')");
    }
  }

  /** The consumer claimed and handled the rows (dual run / cutover). */
  static void consumerHandles(
      TestPostgres db, String group, String table, String rawTable, List<Long> ids) {
    for (long id : ids) {
      sql(
          db,
          "UPDATE " + table + " SET status = 'DONE', processed_at = now() WHERE id = " + id,
          "INSERT INTO unpoll_processed (consumer_group, idempotency_key) VALUES ('"
              + group
              + "', '"
              + rawTable
              + ":"
              + id
              + "')");
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
