package dev.unpoll.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PhaseTest {
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
        .isInstanceOf(MigrationException.class)
        .hasMessageContaining("--force needs --reason")
        .hasMessageContaining("--settle must not be negative")
        .hasMessageContaining("--hold must not be negative");
    assertThat(TransitionOptions.defaults().window()).isEqualTo(TransitionOptions.DEFAULT_WINDOW);
  }
}
