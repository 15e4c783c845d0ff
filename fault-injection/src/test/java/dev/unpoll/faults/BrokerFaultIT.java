package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.ChildJvm;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 3: the Kafka broker, run as its own process, frozen with SIGSTOP longer than the
 * relay's delivery timeout (the relay must stop without committing what the broker never
 * acknowledged, and a restart must publish it), then shut down and started again while the relay
 * retries within its delivery timeout. Nothing committed is lost, no effect happens twice.
 */
@ExtendWith(UnpollStackExtension.class)
class BrokerFaultIT {

  @Test
  void brokerFrozenPastTheDeliveryTimeoutThenStoppedAndRestarted(
      TestPostgres server, @TempDir Path dir) throws Exception {
    Path log = dir.resolve("broker.log");
    try (ChildJvm broker = BrokerMain.start(dir.resolve("kafka"), log)) {
      String bootstrap = BrokerMain.awaitBootstrap(log);
      try (TestKafka kafka = TestKafka.at(bootstrap);
          Harness h =
              new Harness(
                  server,
                  kafka,
                  dir,
                  "broker",
                  Map.of("delivery.timeout.ms", "15000", "request.timeout.ms", "5000"))) {
        h.startRelay();
        h.startConsumer();
        h.load.start();

        // alternately: (a) frozen past the delivery timeout: the relay gives up and exits, and is
        // restarted after; (b) stopped and started again within the delivery timeout: the running
        // relay retries
        for (int i = 0; i < Harness.INJECTIONS; i++) {
          long point = h.nextPoint(200, 2_000);
          await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
          h.injected();
          if (i % 2 == 0) {
            broker.freeze();
            await().atMost(Duration.ofMinutes(2)).until(() -> !h.relay().isAlive());
            int exit = h.relay().exitCode();
            broker.thaw();
            Harness.LOG.info("relay exit code after the frozen broker: {}", exit);
            assertThat(exit)
                .as("the relay stops with an error, not as if all were well")
                .isNotZero();
            // what the relay committed to the slot before it gave up must be in Kafka
            h.checkSlotNotAheadOfKafka();
          } else {
            String n = " #" + (i / 2 + 1);
            broker.send("stop");
            await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> Files.readString(log).contains("broker stopped" + n));
            broker.send("start");
            await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> Files.readString(log).contains("broker started" + n));
          }
          h.superviseRelay();
          h.released();
        }

        Checker.Report r =
            h.settleAndCheck(
                "3. Kafka broker frozen past the delivery timeout, or stopped and restarted");
        assertThat(r.committed()).isPositive();
      }
    }
  }
}
