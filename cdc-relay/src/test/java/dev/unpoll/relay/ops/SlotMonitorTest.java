package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SlotMonitorTest {

  @Test
  void buildReportsEveryInvalidSettingAtOnce() {
    assertThatThrownBy(
            () ->
                SlotMonitor.builder()
                    .jdbcUrl("postgres://x/y")
                    .slotName("Bad-Slot")
                    .pollInterval(Duration.ZERO)
                    .retainedWalWarningBytes(-1)
                    .build())
        .isInstanceOf(RelayOpsException.class)
        .hasMessageContaining("4 invalid setting(s)")
        .hasMessageContaining("jdbcUrl: postgres://x/y")
        .hasMessageContaining("slotName: 'Bad-Slot'")
        .hasMessageContaining("pollInterval: PT0S")
        .hasMessageContaining("retainedWalWarningBytes: -1");
  }

  @Test
  void notCheckedYetIsNeitherReadyNorFatal() {
    SlotMonitor m =
        SlotMonitor.builder().jdbcUrl("jdbc:postgresql://localhost/x").slotName("s").build();
    try (m) {
      assertThat(m.status().state()).isEqualTo(SlotState.NOT_CHECKED);
      assertThat(m.health().up()).isTrue();
      assertThat(m.readiness().up()).isFalse();
    }
  }
}
