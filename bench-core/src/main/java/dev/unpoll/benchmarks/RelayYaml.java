package dev.unpoll.benchmarks;

import dev.unpoll.samples.orders.migrated.RelayConfigs;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

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

  /**
   * The samples' relay configuration with its own {@code slot} and {@code publication}, its events
   * on {@code topic}, and the Kafka client properties named in {@code kafkaPropertyEnv} (property →
   * the placeholder's variable, whose value comes with the environment: no secret in the text).
   */
  static String legacy(
      String slot, String publication, String topic, Map<String, String> kafkaPropertyEnv) {
    String text = legacy();
    text = replaceOnce(text, "  slot: unpoll_shop_integration\n", "  slot: " + slot + "\n");
    text =
        replaceOnce(
            text,
            "  publication: unpoll_shop_integration\n",
            "  publication: " + publication + "\n");
    text =
        replaceOnce(
            text, "    topic: " + RelayConfigs.LEGACY_TOPIC + "\n", "    topic: " + topic + "\n");
    if (!kafkaPropertyEnv.isEmpty()) {
      StringBuilder props = new StringBuilder("  properties:\n");
      kafkaPropertyEnv.forEach(
          (name, variable) ->
              props
                  .append("    \"")
                  .append(name.replace("\\", "\\\\").replace("\"", "\\\""))
                  .append("\": \"${")
                  .append(variable)
                  .append("}\"\n"));
      String anchor = "  bootstrap-servers: ${KAFKA_BOOTSTRAP_SERVERS}\n";
      text = replaceOnce(text, anchor, anchor + props);
    }
    return text;
  }

  private static String replaceOnce(String text, String what, String with) {
    int at = text.indexOf(what);
    if (at < 0 || text.indexOf(what, at + 1) >= 0) {
      throw new IllegalStateException(
          "the samples' relay configuration changed: expected one '" + what.strip() + "'");
    }
    return text.substring(0, at) + with + text.substring(at + what.length());
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
