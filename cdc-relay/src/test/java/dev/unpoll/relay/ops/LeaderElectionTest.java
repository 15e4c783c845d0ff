package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LeaderElectionTest {

  @Test
  void lockKeyIsTheFirstEightBytesOfSha256() {
    // A change of the derivation would let replicas of two versions both lead.
    assertThat(LeaderElection.lockKey("unpoll-relay-orders"))
        .isEqualTo(LeaderElection.lockKey("unpoll-relay-orders"))
        .isEqualTo(EXPECTED_ORDERS_KEY);
    assertThat(LeaderElection.lockKey("unpoll-relay-invoices")).isNotEqualTo(EXPECTED_ORDERS_KEY);
  }

  /** {@code printf unpoll-relay-orders | sha256sum | cut -c1-16}. */
  private static final long EXPECTED_ORDERS_KEY = 0xcae24249b41e77d1L;

  @Test
  void buildReportsEveryInvalidSettingAtOnce() {
    assertThatThrownBy(
            () ->
                LeaderElection.builder()
                    .jdbcUrl("jdbc:mysql://x/y?password=secret")
                    .lockName(" ")
                    .checkInterval(Duration.ZERO)
                    .retryInterval(Duration.ofSeconds(-1))
                    .build())
        .isInstanceOf(RelayOpsException.class)
        .hasMessageContaining("4 invalid setting(s)")
        .hasMessageContaining("jdbcUrl: jdbc:mysql://x/y?****")
        .hasMessageContaining("lockName")
        .hasMessageContaining("checkInterval: PT0S")
        .hasMessageContaining("retryInterval: PT-1S")
        .hasMessageNotContaining("secret");
  }
}
