package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TableNameTest {
  @Test
  void plainNamesFoldToLowerCaseAndDefaultToPublic() {
    assertThat(TableName.parse("Order_Integration"))
        .isEqualTo(new TableName("public", "order_integration"));
    assertThat(TableName.parse("sales.orders")).isEqualTo(new TableName("sales", "orders"));
  }

  @Test
  void quotedPartsKeepCaseDotsAndDoubledQuotes() {
    TableName t = TableName.parse("\"Sales\".\"Order.Queue \"\"x\"\"\"");
    assertThat(t).isEqualTo(new TableName("Sales", "Order.Queue \"x\""));
    assertThat(t.quoted()).isEqualTo("\"Sales\".\"Order.Queue \"\"x\"\"\"");
    assertThat(TableName.parse(t.display())).isEqualTo(t);
  }

  @Test
  void rejectsSqlInUnquotedNames() {
    assertThatThrownBy(() -> TableName.parse("orders; drop table users"))
        .isInstanceOf(UnpollCliException.class)
        .hasMessageContaining("not a valid table name")
        .satisfies(
            e -> assertThat(((UnpollCliException) e).exitCode()).isEqualTo(Unpoll.EXIT_USAGE));
    assertThatThrownBy(() -> TableName.parse("a.b.c")).hasMessageContaining("more than two parts");
    assertThatThrownBy(() -> TableName.parse("\"open")).hasMessageContaining("not closed");
    assertThatThrownBy(() -> TableName.parse("x.")).hasMessageContaining("ends with");
    assertThatThrownBy(() -> TableName.parse("o'brien")).hasMessageContaining("plain identifier");
  }

  @Test
  void rejectsNamesPostgresWouldTruncate() {
    assertThatThrownBy(() -> TableName.parse("a".repeat(64))).hasMessageContaining("63 bytes");
  }

  @Test
  void displayQuotesOnlyWhereNeeded() {
    assertThat(new TableName("public", "orders").display()).isEqualTo("public.orders");
    assertThat(new TableName("Sales", "orders").display()).isEqualTo("\"Sales\".orders");
  }

  @Test
  void phasesMoveOneStepAtATime() {
    assertThat(Phase.CAPTURING.next()).contains(Phase.SHADOW);
    assertThat(Phase.RETIRED.next()).isEmpty();
    assertThat(Phase.ANALYZED.previous()).isEmpty();
    assertThat(Phase.fromId("dual")).isEqualTo(Phase.DUAL);
  }

  @Test
  void transitionOptionsReportEveryProblemAtOnce() {
    assertThatThrownBy(
            () ->
                TransitionOptions.builder()
                    .force(true)
                    .settle(java.time.Duration.ofSeconds(-1))
                    .hold(java.time.Duration.ofHours(-1))
                    .build())
        .isInstanceOf(UnpollCliException.class)
        .hasMessageContaining("--force needs --reason")
        .hasMessageContaining("--settle must not be negative")
        .hasMessageContaining("--hold must not be negative");
    assertThat(TransitionOptions.defaults().window()).isEqualTo(TransitionOptions.DEFAULT_WINDOW);
  }
}
