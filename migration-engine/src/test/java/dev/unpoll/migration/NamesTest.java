package dev.unpoll.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.internal.Names;
import org.junit.jupiter.api.Test;

/** The CLI's side of table names: the relay's parser, with usage errors (exit 2). */
class NamesTest {
  @Test
  void parsesWithTheRelaysParser() {
    assertThat(Names.table("Order_Integration"))
        .isEqualTo(new TableName("public", "order_integration"));
    assertThat(Names.table("\"Sales\".\"Order Queue\""))
        .isEqualTo(new TableName("Sales", "Order Queue"));
  }

  @Test
  void anInvalidNameIsAUsageErrorWithTheParsersReason() {
    assertThatThrownBy(() -> Names.table("orders; drop table users"))
        .isInstanceOf(MigrationException.class)
        .hasMessageStartingWith("--table: 'orders; drop table users' is not a valid table name: ")
        .hasMessageContaining("plain identifier")
        .satisfies(
            e ->
                assertThat(((MigrationException) e).kind())
                    .isEqualTo(MigrationException.Kind.USAGE));
    assertThatThrownBy(() -> Names.table("a".repeat(64)))
        .isInstanceOf(MigrationException.class)
        .hasMessageContaining("63 bytes");
  }

  @Test
  void aMissingNameIsAUsageError() {
    assertThatThrownBy(() -> Names.table(" "))
        .isInstanceOf(MigrationException.class)
        .hasMessage("--table: a table name is required (schema.table)")
        .satisfies(
            e ->
                assertThat(((MigrationException) e).kind())
                    .isEqualTo(MigrationException.Kind.USAGE));
  }

  @Test
  void quoteChecksTheIdentifier() {
    assertThat(Names.quote("Order \"Q\"")).isEqualTo("\"Order \"\"Q\"\"\"");
    assertThatThrownBy(() -> Names.quote("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Names.quote("p".repeat(64)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("63 bytes");
  }
}
