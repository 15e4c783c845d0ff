package dev.unpoll.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Proves the stack every other module tests on: logical decoding in PostgreSQL and a broker. */
@ExtendWith(UnpollStackExtension.class)
class StackIT {
  static TestPostgres db;

  @BeforeAll
  static void createDatabase(TestPostgres server) {
    db = server.createDatabase("stack_it");
  }

  @Test
  void postgresRunsWithLogicalDecodingAndSynchronousCommit() throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      assertThat(setting(s, "wal_level")).isEqualTo("logical");
      assertThat(setting(s, "synchronous_commit")).isEqualTo("on");
      assertThat(Integer.parseInt(setting(s, "max_replication_slots"))).isGreaterThanOrEqualTo(10);
      assertThat(Integer.parseInt(setting(s, "max_wal_senders"))).isGreaterThanOrEqualTo(10);
      assertThat(setting(s, "server_version_num")).startsWith("17");
    }
  }

  @Test
  void committedRowIsReadBackFromAPgoutputSlot() throws Exception {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE stack_probe (id bigint PRIMARY KEY, note text)");
      s.execute("CREATE PUBLICATION stack_pub FOR TABLE stack_probe");
      s.execute("SELECT pg_create_logical_replication_slot('stack_slot', 'pgoutput')");
      s.execute("INSERT INTO stack_probe VALUES (42, 'hello from the WAL')");

      // pgoutput speaks a binary protocol; pg_logical_slot_get_binary_changes reads it over SQL.
      List<byte[]> messages = new ArrayList<>();
      try (ResultSet rs =
          s.executeQuery(
              "SELECT data FROM pg_logical_slot_get_binary_changes('stack_slot', NULL, NULL,"
                  + " 'proto_version', '1', 'publication_names', 'stack_pub')")) {
        while (rs.next()) {
          messages.add(rs.getBytes(1));
        }
      }
      // B(egin), R(elation), I(nsert), C(ommit), in that order.
      assertThat(messages).extracting(m -> (char) m[0]).containsExactly('B', 'R', 'I', 'C');
      String insert = new String(messages.get(2), StandardCharsets.UTF_8);
      assertThat(insert).contains("42").contains("hello from the WAL");
      s.execute("SELECT pg_drop_replication_slot('stack_slot')");
    }
  }

  @Test
  void recordIsProducedAndConsumed(TestKafka kafka) throws Exception {
    String topic = kafka.createUniqueTopic("stack", 3);
    try (KafkaProducer<byte[], byte[]> producer = kafka.newProducer()) {
      for (int i = 0; i < 10; i++) {
        producer
            .send(new ProducerRecord<>(topic, bytes("key-" + (i % 2)), bytes("value-" + i)))
            .get();
      }
    }
    List<ConsumerRecord<byte[], byte[]>> records =
        kafka.readFromBeginning(topic, 10, Duration.ofSeconds(30));
    assertThat(records).hasSize(10);
    assertThat(records)
        .filteredOn(r -> new String(r.key(), StandardCharsets.UTF_8).equals("key-1"))
        .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
        .containsExactly("value-1", "value-3", "value-5", "value-7", "value-9");
  }

  private static String setting(Statement s, String name) throws Exception {
    try (ResultSet rs = s.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
