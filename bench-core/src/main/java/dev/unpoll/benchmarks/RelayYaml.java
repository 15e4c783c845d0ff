package dev.unpoll.benchmarks;

import dev.unpoll.samples.orders.migrated.RelayConfigs;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The samples' relay configuration as text, for the harnesses that run the relay, with the
 * harness-wide setting {@code -Drelay.poll.interval=<duration>} (the relay's {@code
 * source.poll-interval}, e.g. {@code 2ms}; unset: the relay's default) applied.
 */
final class RelayYaml {
  private RelayYaml() {}

  static String legacy() {
    String text;
    try (InputStream in = RelayConfigs.class.getResourceAsStream(RelayConfigs.LEGACY)) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return withPollInterval(text);
  }

  /** {@code text} with {@code source.poll-interval} set from {@code relay.poll.interval}. */
  static String withPollInterval(String text) {
    String poll = System.getProperty("relay.poll.interval");
    if (poll == null || poll.isBlank()) {
      return text;
    }
    String anchor = "\n  heartbeat-interval: ";
    int at = text.indexOf(anchor);
    if (at < 0) {
      throw new IllegalStateException(
          "no source.heartbeat-interval line to put the poll interval by");
    }
    return text.substring(0, at) + "\n  poll-interval: " + poll.strip() + text.substring(at);
  }
}
