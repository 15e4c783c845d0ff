package dev.unpoll.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TableNameTest {

  @Test
  void unquotedNamesFoldToLowerCaseAndDefaultToPublic() {
    assertThat(TableName.parse("Order_Queue")).isEqualTo(new TableName("public", "order_queue"));
    assertThat(TableName.parse("Ops.Q1")).isEqualTo(new TableName("ops", "q1"));
    assertThat(TableName.parse("Order_Integration"))
        .isEqualTo(new TableName("public", "order_integration"));
    assertThat(TableName.parse("sales.orders")).isEqualTo(new TableName("sales", "orders"));
  }

  @Test
  void quotedNamesKeepCaseAndEmbeddedQuotes() {
    TableName t = TableName.parse("\"Sales\".\"Order\"\"Queue\"");
    assertThat(t).isEqualTo(new TableName("Sales", "Order\"Queue"));
    assertThat(t.quoted()).isEqualTo("\"Sales\".\"Order\"\"Queue\"");
    assertThat(t.dotted()).isEqualTo("Sales.Order\"Queue");
  }

  @Test
  void quotedPartsKeepCaseDotsAndDoubledQuotes() {
    TableName t = TableName.parse("\"Sales\".\"Order.Queue \"\"x\"\"\"");
    assertThat(t).isEqualTo(new TableName("Sales", "Order.Queue \"x\""));
    assertThat(t.quoted()).isEqualTo("\"Sales\".\"Order.Queue \"\"x\"\"\"");
    assertThat(TableName.parse(t.display())).isEqualTo(t);
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

  @Test
  void rejectsSqlInUnquotedNames() {
    assertThatThrownBy(() -> TableName.parse("orders; drop table users"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("plain identifier");
    assertThatThrownBy(() -> TableName.parse("a.b.c"))
        .hasMessageContaining("expected schema.table");
    assertThatThrownBy(() -> TableName.parse("\"open"))
        .hasMessageContaining("unterminated quoted identifier");
    assertThatThrownBy(() -> TableName.parse("x.")).hasMessageContaining("empty name part");
    assertThatThrownBy(() -> TableName.parse("o'brien")).hasMessageContaining("plain identifier");
  }

  @Test
  void unquotedPartsArePlainAsciiIdentifiers() {
    assertThat(TableName.parse("_a$1.b_2")).isEqualTo(new TableName("_a$1", "b_2"));
    assertThatThrownBy(() -> TableName.parse("café")).hasMessageContaining("plain identifier");
    assertThatThrownBy(() -> TableName.parse("$a")).hasMessageContaining("plain identifier");
    assertThatThrownBy(() -> TableName.parseColumn("naïve"))
        .hasMessageContaining("plain identifier");
    assertThat(TableName.parse("\"café\"")).isEqualTo(new TableName("public", "café"));
  }

  @Test
  void rejectsNamesPostgresWouldTruncate() {
    assertThatThrownBy(() -> TableName.parse("a".repeat(64))).hasMessageContaining("63 bytes");
    assertThat(TableName.parse("a".repeat(63)).table()).hasSize(63);
    // 32 two-byte characters: 32 characters, 64 bytes
    assertThatThrownBy(() -> TableName.parse("\"" + "é".repeat(32) + "\""))
        .hasMessageContaining("63 bytes");
    assertThatThrownBy(() -> TableName.parseColumn("\"" + "é".repeat(32) + "\""))
        .hasMessageContaining("63 bytes");
  }

  @Test
  void checkIdentifierRejectsWhatPostgresCannotKeep() {
    assertThat(TableName.checkIdentifier("Order Queue")).isEqualTo("Order Queue");
    assertThatThrownBy(() -> TableName.checkIdentifier("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> TableName.checkIdentifier("a\0b")).hasMessageContaining("NUL");
    assertThatThrownBy(() -> TableName.checkIdentifier("x".repeat(64)))
        .hasMessageContaining("63 bytes");
  }

  @Test
  void displayQuotesOnlyWhereNeeded() {
    assertThat(new TableName("public", "orders").display()).isEqualTo("public.orders");
    assertThat(new TableName("Sales", "orders").display()).isEqualTo("\"Sales\".orders");
    assertThat(new TableName("Sales", "Order Queue").display())
        .isEqualTo("\"Sales\".\"Order Queue\"");
  }

  @Test
  void toStringIsTheDottedForm() {
    assertThat(new TableName("Sales", "Order Queue")).hasToString("Sales.Order Queue");
  }
}
