package dev.unpoll.migration;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.internal.PlanWriter;
import org.junit.jupiter.api.Test;

class PlanWriterTest {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static ObjectNode mapping(String table, String topic) {
    ObjectNode m = YAML.createObjectNode();
    m.put("table", table);
    m.put("topic", topic);
    m.putArray("key").add("id");
    m.put("value", "payload");
    m.putObject("status").put("column", "status").putArray("pending").add("NEW");
    m.put("backlog", true);
    return m;
  }

  @Test
  void addsTablesSectionToAFileWithoutOneKeepingComments() throws Exception {
    String before = "# relay config\nsource:\n  jdbc-url: jdbc:postgresql://db/x  # the db\n";
    PlanWriter.Result r =
        PlanWriter.merge(before, TableName.parse("public.q"), mapping("public.q", "orders.q"));
    assertThat(r.replaced()).isFalse();
    assertThat(r.text()).startsWith(before);
    JsonNode tree = YAML.readTree(r.text());
    assertThat(tree.at("/tables/0/topic").asText()).isEqualTo("orders.q");
    assertThat(tree.at("/tables/0/status/pending/0").asText()).isEqualTo("NEW");
    assertThat(tree.at("/source/jdbc-url").asText()).isEqualTo("jdbc:postgresql://db/x");
  }

  @Test
  void replacesTheSameTablesEntryAndKeepsOthersAndLaterSections() throws Exception {
    String before =
        "source:\n  slot: s\ntables:\n"
            + "  - table: public.a   # first\n    topic: old.a\n    key: [id]\n"
            + "  # a comment between entries\n"
            + "  - table: public.b\n    topic: b\n"
            + "http:\n  port: 0\n";
    PlanWriter.Result r =
        PlanWriter.merge(before, TableName.parse("a"), mapping("public.a", "new.a"));
    assertThat(r.replaced()).isTrue();
    JsonNode tree = YAML.readTree(r.text());
    assertThat(tree.at("/tables").size()).isEqualTo(2);
    assertThat(tree.at("/tables/0/topic").asText()).isEqualTo("new.a");
    assertThat(tree.at("/tables/1/topic").asText()).isEqualTo("b");
    assertThat(tree.at("/http/port").asInt()).isZero();
    assertThat(r.text()).contains("# a comment between entries").doesNotContain("old.a");
  }

  @Test
  void appendsANewTableAfterTheLastEntry() throws Exception {
    String before =
        "tables:\n  - table: public.b\n    topic: b\n\nkafka:\n  bootstrap-servers: k:9092\n";
    PlanWriter.Result r =
        PlanWriter.merge(before, TableName.parse("public.c"), mapping("public.c", "c"));
    JsonNode tree = YAML.readTree(r.text());
    assertThat(tree.at("/tables/1/table").asText()).isEqualTo("public.c");
    assertThat(tree.at("/kafka/bootstrap-servers").asText()).isEqualTo("k:9092");
  }

  @Test
  void quotesTableNamesThatNeedIt() throws Exception {
    TableName t = new TableName("Sales", "Order Queue");
    PlanWriter.Result r = PlanWriter.merge("", t, mapping(t.display(), "sales"));
    JsonNode tree = YAML.readTree(r.text());
    assertThat(TableName.parse(tree.at("/tables/0/table").asText())).isEqualTo(t);
    PlanWriter.Result again = PlanWriter.merge(r.text(), t, mapping(t.display(), "sales2"));
    assertThat(again.replaced()).isTrue();
    assertThat(YAML.readTree(again.text()).at("/tables").size()).isEqualTo(1);
  }
}
