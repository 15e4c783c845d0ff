package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private final RetryPolicy policy =
      RetryPolicy.builder()
          .maxAttempts(6)
          .initialBackoff(Duration.ofMillis(100))
          .multiplier(2)
          .maxBackoff(Duration.ofMillis(500))
          .jitter(Duration.ofMillis(20))
          .build();

  @RepeatedTest(20)
  void backoffGrowsExponentiallyWithinJitterAndIsCapped() {
    assertThat(policy.backoff(1).toMillis()).isBetween(80L, 120L);
    assertThat(policy.backoff(2).toMillis()).isBetween(180L, 220L);
    assertThat(policy.backoff(3).toMillis()).isBetween(380L, 420L);
    assertThat(policy.backoff(4).toMillis()).isBetween(480L, 520L);
    assertThat(policy.backoff(9).toMillis()).isBetween(480L, 520L);
  }

  @Test
  void jitterVariesTheWait() {
    long distinct =
        java.util.stream.IntStream.range(0, 50)
            .mapToLong(i -> policy.backoff(1).toMillis())
            .distinct()
            .count();
    assertThat(distinct).isGreaterThan(1);
  }

  @Test
  void worstCaseAddsEveryCappedWaitAndJitter() {
    // 100 + 200 + 400 + 500 + 500, plus 5 x 20 jitter
    assertThat(policy.worstCaseTotalBackoff()).isEqualTo(Duration.ofMillis(1_800));
  }

  @Test
  void classifiesNonRetryableFailuresThroughTheCauseChain() {
    RetryPolicy p = RetryPolicy.builder().nonRetryable(IllegalArgumentException.class).build();
    assertThat(p.isRetryable(new SQLException("connection reset"))).isTrue();
    assertThat(p.isRetryable(new NonRetryableException("bad"))).isFalse();
    assertThat(p.isRetryable(new MissingIdempotencyKeyException("none"))).isFalse();
    assertThat(p.isRetryable(new ConsumerException("wrapped", new IllegalArgumentException())))
        .isFalse();
    assertThat(p.isRetryable(new ClassCastException())).isFalse();
  }

  @Test
  void reportsEveryProblemAtOnce() {
    assertThatThrownBy(
            () ->
                RetryPolicy.builder()
                    .maxAttempts(0)
                    .multiplier(0.5)
                    .initialBackoff(Duration.ofSeconds(2))
                    .maxBackoff(Duration.ofSeconds(1))
                    .jitter(Duration.ofMillis(-1))
                    .build())
        .hasMessageContaining("maxAttempts: 0 must be at least 1")
        .hasMessageContaining("multiplier: 0.5 must be a finite number >= 1")
        .hasMessageContaining("maxBackoff: PT1S is below initialBackoff PT2S")
        .hasMessageContaining("jitter: PT-0.001S must be zero or positive");
  }
}
