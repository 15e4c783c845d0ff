package dev.unpoll.benchmarks;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class R1DrainTest {

  @Test
  void theProduceCeilingGivesEachRecordItsRowsIdInKeyAndCeId() {
    assertThat(R1Drain.withId("1".getBytes(UTF_8), "1", "4711")).asString(UTF_8).isEqualTo("4711");
    assertThat(R1Drain.withId("shop.order_integration:1".getBytes(UTF_8), "1", "4711"))
        .asString(UTF_8)
        .isEqualTo("shop.order_integration:4711");
  }

  @Test
  void otherHeadersStayAsTheTemplateHasThem() {
    assertThat(R1Drain.withId("order-1-x".getBytes(UTF_8), "1", "4711"))
        .asString(UTF_8)
        .isEqualTo("order-1-x");
    assertThat(R1Drain.withId(null, "1", "4711")).isNull();
  }

  @Test
  void slotsAndTopicsAreOnePerArmAndRound() {
    assertThat(R1Drain.slot("m", R1Drain.Arm.RELAY, 2)).isEqualTo("r1_m_relay_2");
    assertThat(R1Drain.topic("m", R1Drain.Arm.BACKLOG, 3)).isEqualTo("r1.m.backlog.3");
  }
}
