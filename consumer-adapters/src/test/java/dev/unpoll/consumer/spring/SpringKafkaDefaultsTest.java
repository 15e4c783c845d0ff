package dev.unpoll.consumer.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.consumer.RetryPolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.util.backoff.BackOffExecution;

class SpringKafkaDefaultsTest {
  @Test
  void backOffRetriesMaxAttemptsMinusOneTimesWithThePolicysWaits() {
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(5)
            .initialBackoff(Duration.ofMillis(100))
            .multiplier(2)
            .maxBackoff(Duration.ofMillis(300))
            .jitter(Duration.ZERO)
            .build();
    BackOffExecution execution = SpringKafkaDefaults.backOff(policy).start();
    assertThat(execution.nextBackOff()).isEqualTo(100);
    assertThat(execution.nextBackOff()).isEqualTo(200);
    assertThat(execution.nextBackOff()).isEqualTo(300);
    assertThat(execution.nextBackOff()).isEqualTo(300);
    assertThat(execution.nextBackOff()).isEqualTo(BackOffExecution.STOP);
  }

  @Test
  void backOffAppliesJitterAroundTheWait() {
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(2)
            .initialBackoff(Duration.ofMillis(1_000))
            .jitter(Duration.ofMillis(100))
            .build();
    for (int i = 0; i < 20; i++) {
      assertThat(SpringKafkaDefaults.backOff(policy).start().nextBackOff()).isBetween(900L, 1_100L);
    }
  }
}
