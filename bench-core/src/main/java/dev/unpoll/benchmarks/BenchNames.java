package dev.unpoll.benchmarks;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * What one run of the bench creates, named after the run so that a leftover of an aborted run never
 * blocks the next one and is recognisable as the bench's: replication slot and publication {@code
 * unpoll_bench_<id>}, topic {@code unpoll-bench-<id>}, consumer group {@code unpoll-bench-<id>};
 * the schemas {@code shop} and {@code shipping} (the samples' names) carry the comment {@link
 * #marker()}.
 *
 * @param id six hexadecimal digits
 */
record BenchNames(String id, String slot, String publication, String topic, String group) {
  /** A slot or publication of a bench run; group 1 is the run's id. */
  static final Pattern RELAY_NAME = Pattern.compile("unpoll_bench_([0-9a-f]{6})");

  /** The comment on a schema the bench created; group 1 is the run's id. */
  static final Pattern MARKER = Pattern.compile("unpoll bench ([0-9a-f]{6})");

  /** The samples' schemas the bench creates (the samples' poller, writer and handler use them). */
  static final java.util.List<String> SCHEMAS = java.util.List.of("shop", "shipping");

  static BenchNames random() {
    byte[] b = new byte[3];
    new SecureRandom().nextBytes(b);
    return of(HexFormat.of().formatHex(b));
  }

  static BenchNames of(String id) {
    return new BenchNames(
        id, "unpoll_bench_" + id, "unpoll_bench_" + id, "unpoll-bench-" + id, "unpoll-bench-" + id);
  }

  /** The comment on the schemas this run created. */
  String marker() {
    return "unpoll bench " + id;
  }

  /** The consumer's dead-letter topic (the runner's default), created only if a row fails. */
  String deadLetterTopic() {
    return topic + ".DLT";
  }
}
