package dev.unpoll.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TableNameTest {

  @Test
  void unquotedNamesFoldToLowerCaseAndDefaultToPublic() {
    assertThat(TableName.parse("Order_Queue")).isEqualTo(new TableName("public", "order_queue"));
    assertThat(TableName.parse("Ops.Q1")).isEqualTo(new TableName("ops", "q1"));
  }

  @Test
  void quotedNamesKeepCaseAndEmbeddedQuotes() {
    TableName t = TableName.parse("\"Sales\".\"Order\"\"Queue\"");
    assertThat(t).isEqualTo(new TableName("Sales", "Order\"Queue"));
    assertThat(t.quoted()).isEqualTo("\"Sales\".\"Order\"\"Queue\"");
    assertThat(t.dotted()).isEqualTo("Sales.Order\"Queue");
  }

  @Test
  void rejectsInvalidNames() {
    assertThatThrownBy(() -> TableName.parse("a;drop table x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TableName.parse("a..b")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TableName.parse("1abc")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TableName.parse("x".repeat(64)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TableName.parseColumn("a.b"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
