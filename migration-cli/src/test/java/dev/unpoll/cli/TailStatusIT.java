package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class TailStatusIT {
  static TestPostgres db;
  static TestKafka kafka;

  @BeforeAll
  static void database(TestPostgres server, TestKafka k) {
    db = server.createDatabase("cli_tail_it");
    kafka = k;
  }

  @Test
  void tailPrintsKeyHeadersAndValue() {
    String topic = kafka.createUniqueTopic("tail", 1);
    Fixtures.publish(kafka, topic, "public.orders", List.of(41L, 42L, 43L));

    Cli.Result r = Cli.run(db, kafka, "tail", "--topic", topic, "--from-beginning", "--max", "2");

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains(topic + "-0@0", "key 41", "ce_id: public.orders:41", "value: {\"orderId\":1041}")
        .contains("key 42")
        .doesNotContain("key 43");
    assertThat(r.err()).contains("2 event(s)");
  }

  @Test
  void tailJsonIsOneObjectPerLine() throws Exception {
    String topic = kafka.createUniqueTopic("tail-json", 1);
    Fixtures.publish(kafka, topic, "public.orders", List.of(7L, 8L));

    Cli.Result r =
        Cli.run(db, kafka, "tail", "--topic", topic, "--from-beginning", "--max", "2", "--json");

    assertThat(r.exit()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(2);
    JsonNode first = Cli.JSON.readTree(lines.get(0));
    assertThat(first.get("key").asText()).isEqualTo("7");
    assertThat(first.at("/headers/ce_id").asText()).isEqualTo("public.orders:7");
    assertThat(first.at("/value/orderId").asInt()).isEqualTo(1007);
    assertThat(first.get("offset").asLong()).isZero();
  }

  @Test
  void tailFromTheEndStopsAfterTheIdleTimeoutWithoutOldEvents() {
    String topic = kafka.createUniqueTopic("tail-end", 1);
    Fixtures.publish(kafka, topic, "public.orders", List.of(1L));
    Cli.Result r = Cli.run(db, kafka, "tail", "--topic", topic, "--idle-timeout", "1s");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("0 event(s)");
  }

  @Test
  void statusWithNothingMigratedSaysSo() {
    Cli.Result r = Cli.run(db, null, "status");
    assertThat(r.exit()).as(r.toString()).isZero();
    // no slot named (no --slot, no --config): there is no default slot to report on
    assertThat(r.out()).contains("slot: none named", "no table is being migrated");
    Cli.Result j = Cli.run(db, null, "status", "--json");
    assertThat(j.json().get("tables").size()).isZero();
    assertThat(j.json().at("/slot/exists").asBoolean()).isFalse();
  }
}
