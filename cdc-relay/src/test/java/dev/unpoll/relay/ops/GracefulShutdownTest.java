package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class GracefulShutdownTest {

  @Test
  void completedActionRunsOnceAndEveryCallGetsItsOutcome() {
    AtomicInteger runs = new AtomicInteger();
    GracefulShutdown shutdown =
        GracefulShutdown.builder()
            .timeout(Duration.ofSeconds(10))
            .action(runs::incrementAndGet)
            .build();

    GracefulShutdown.Outcome first = shutdown.run();
    GracefulShutdown.Outcome second = shutdown.run();

    assertThat(first.result()).isEqualTo(GracefulShutdown.Result.COMPLETED);
    assertThat(first.failure()).isNull();
    assertThat(second).isSameAs(first);
    assertThat(runs).hasValue(1);
  }

  @Test
  void actionStillRunningAtTheTimeoutIsInterruptedAndReportedTimedOut() throws Exception {
    CountDownLatch interrupted = new CountDownLatch(1);
    GracefulShutdown shutdown =
        GracefulShutdown.builder()
            .timeout(Duration.ofMillis(300))
            .action(
                () -> {
                  try {
                    new CountDownLatch(1).await(); // an in-flight send that never completes
                  } catch (InterruptedException e) {
                    interrupted.countDown();
                  }
                })
            .build();

    GracefulShutdown.Outcome outcome = shutdown.run();

    assertThat(outcome.result()).isEqualTo(GracefulShutdown.Result.TIMED_OUT);
    assertThat(outcome.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void failingActionIsReportedWithItsException() {
    IllegalStateException boom = new IllegalStateException("offsets flush failed");
    GracefulShutdown shutdown =
        GracefulShutdown.builder()
            .action(
                () -> {
                  throw boom;
                })
            .build();

    GracefulShutdown.Outcome outcome = shutdown.run();

    assertThat(outcome.result()).isEqualTo(GracefulShutdown.Result.FAILED);
    assertThat(outcome.failure()).isSameAs(boom);
  }

  @Test
  void hookRegistrationIsIdempotentAndRemovable() {
    GracefulShutdown shutdown = GracefulShutdown.builder().action(() -> {}).build();

    shutdown.registerShutdownHook().registerShutdownHook();

    assertThat(shutdown.unregisterShutdownHook()).isTrue();
    assertThat(shutdown.unregisterShutdownHook()).isFalse();
  }

  @Test
  void buildReportsEveryInvalidSettingAtOnce() {
    assertThatThrownBy(
            () -> GracefulShutdown.builder().name("").timeout(Duration.ofSeconds(-5)).build())
        .isInstanceOf(RelayOpsException.class)
        .hasMessageContaining("3 invalid setting(s)")
        .hasMessageContaining("name: ")
        .hasMessageContaining("timeout: PT-5S")
        .hasMessageContaining("action: missing");
  }
}
