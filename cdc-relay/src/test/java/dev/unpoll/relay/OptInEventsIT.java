package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.header;
import static dev.unpoll.relay.RelayFixtures.sql;
import static dev.unpoll.relay.RelayFixtures.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(UnpollStackExtension.class)
class OptInEventsIT {

  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_optin_it");
    sql(
        db,
        "create table tracked (id int primary key, note text, status text not null default 'NEW',"
            + " retry_count int not null default 0)",
        "alter table tracked replica identity full",
        "create table toasted (id int primary key, note text, status text not null default 'NEW',"
            + " doc jsonb not null)",
        "alter table toasted replica identity full");
  }

  /**
   * A row whose jsonb is stored out of line (TOAST): an update that does not touch it leaves it out
   * of pgoutput's new row image. With REPLICA IDENTITY FULL (required for emit-updates, checked at
   * start) the old image carries it and the event holds the real document, never Debezium's
   * unavailable-value placeholder, and a status-only update stays a bookkeeping update. A guard for
   * issue 12's TOAST fault: it passes on today's code.
   */
  @Test
  void anUpdateBesideALargeToastedValueCarriesTheValueNotAPlaceholder(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("toasted", 1);
    String yaml =
        RelayFixtures.baseYaml(db, kafka, "optin_toast_it")
            + """
            tables:
              - table: toasted
                topic: %s
                bookkeeping-columns: [status]
                emit-updates: true
            """
                .formatted(topic);
    // ~40 kB of text that does not compress: stored out of line
    String big =
        "(select jsonb_build_object('blob', string_agg(md5(g::text || 'x'), '')) from"
            + " generate_series(1, 1200) g)";
    try (Relay relay = Relay.builder().config(RelayFixtures.config(db, yaml)).build();
        TopicReader reader = new TopicReader(kafka, topic)) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(
          db,
          "insert into toasted (id, note, doc) values (1, 'first', " + big + ")",
          "update toasted set status = 'DONE' where id = 1",
          "update toasted set note = 'changed' where id = 1");
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 2);
      List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(2));
      assertThat(records)
          .extracting(r -> header(r, "ce_type"))
          .as("the status-only update is bookkeeping: no event")
          .containsExactly("public.toasted.inserted", "public.toasted.updated");
      String inserted = value(records.get(0));
      String updated = value(records.get(1));
      assertThat(updated).doesNotContain("__debezium_unavailable_value").contains("\"changed\"");
      assertThat(updated.substring(updated.indexOf("\"doc\"")))
          .isEqualTo(inserted.substring(inserted.indexOf("\"doc\"")));
    }
  }

  @Test
  void optInUpdatesAndDeletesAreEmittedButBookkeepingOnlyUpdatesStaySilentWithFileOffsets(
      TestKafka kafka, @TempDir Path dir) {
    String topic = kafka.createUniqueTopic("tracked", 1);
    String yaml =
        RelayFixtures.baseYaml(db, kafka, "optin_it")
            + """
            offsets:
              store: file
              file: %s
            tables:
              - table: tracked
                topic: %s
                bookkeeping-columns: [status, retry_count]
                emit-updates: true
                emit-deletes: true
            """
                .formatted(dir.resolve("offsets.dat"), topic);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (Relay relay =
        Relay.builder().config(RelayFixtures.config(db, yaml)).meterRegistry(registry).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(
          db,
          "insert into tracked (id, note) values (1, 'first')",
          "update tracked set status = 'DONE', retry_count = 1 where id = 1",
          "update tracked set note = 'changed' where id = 1",
          "delete from tracked where id = 1");
      try (TopicReader reader = new TopicReader(kafka, topic)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 3);
        List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(2));
        assertThat(records)
            .extracting(r -> header(r, "ce_type"))
            .containsExactly(
                "public.tracked.inserted", "public.tracked.updated", "public.tracked.deleted");
        assertThat(value(records.get(1))).isEqualTo("{\"id\":1,\"note\":\"changed\"}");
        // the insert's id is the row's; an update or a delete is one more event of the row, with
        // its LSN in its id, or an idempotent consumer would skip it as the insert's duplicate
        assertThat(records)
            .extracting(r -> header(r, "ce_id"))
            .containsExactly(
                "public.tracked:1",
                "public.tracked:1@" + header(records.get(1), "unpoll_lsn"),
                "public.tracked:1@" + header(records.get(2), "unpoll_lsn"))
            .doesNotHaveDuplicates();
      }
      assertThat(
              registry
                  .counter(
                      "unpoll.relay.skipped",
                      "table",
                      "public.tracked",
                      "reason",
                      "bookkeeping-update")
                  .count())
          .isEqualTo(1);
    }
    assertThat(dir.resolve("offsets.dat")).isNotEmptyFile();
  }
}
