package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;

class DeadLetterTest {
  /** A replay strips failure headers by prefix: a new one in DeadLetterHeaders must match it. */
  @Test
  void everyDeadLetterHeaderIsRecognisedAsAFailureHeader() throws IllegalAccessException {
    int headers = 0;
    for (Field f : DeadLetterHeaders.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers())
          && f.getType() == String.class
          && !f.getName().equals("DEFAULT_TOPIC_SUFFIX")
          && !f.getName().startsWith("REPLAYED_")) { // replay markers: a replay strips them itself
        assertThat(DeadLetter.isFailureHeader((String) f.get(null))).as(f.getName()).isTrue();
        headers++;
      }
    }
    assertThat(headers).isGreaterThanOrEqualTo(7);
    assertThat(DeadLetter.isFailureHeader("kafka_dlt-exception-fqcn")).isTrue();
    assertThat(DeadLetter.isFailureHeader("ce_id")).isFalse();
    assertThat(DeadLetter.isFailureHeader(DeadLetterHeaders.REPLAYED_FROM)).isFalse();
  }

  @Test
  void positionIsPartitionColonOffset() {
    assertThat(DeadLetterFilter.Position.parse("3:42"))
        .isEqualTo(new DeadLetterFilter.Position(3, 42));
    assertThatThrownBy(() -> DeadLetterFilter.Position.parse("42"))
        .hasMessageContaining("use <partition>:<offset>, e.g. 0:42");
    assertThatThrownBy(() -> DeadLetterFilter.Position.parse("a:b"))
        .hasMessageContaining("'a:b' is not a position");
    assertThatThrownBy(() -> DeadLetterFilter.Position.parse("-1:0"))
        .hasMessageContaining("must have partition and offset >= 0");
  }
}
