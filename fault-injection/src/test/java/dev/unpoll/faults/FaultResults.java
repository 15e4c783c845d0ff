package dev.unpoll.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The figures of each fault run: written to {@code target/reliability/<fault>.json} after every
 * run, and, when {@code -Dunpoll.faults.publish=true} (the full run's command in
 * docs/reliability.md), merged into {@code docs/reliability/results.json}, from which the figures
 * table of {@code docs/reliability.md} is generated. {@code ReliabilityDocTest} checks that the
 * page and the file agree, so neither is edited by hand.
 */
final class FaultResults {
  static final String BEGIN = "<!-- results:begin (generated from reliability/results.json) -->";
  static final String END = "<!-- results:end -->";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * One fault's run, as issue 12 names the fields.
   *
   * @param fault the fault's number in issue 12, with a letter for its variants ({@code 5b})
   * @param name what was injected
   * @param injections faults injected
   * @param events committed rows and events the writers wrote
   * @param lost committed ones missing from the topic or never applied
   * @param duplicateEffects applications beyond the first of one event
   * @param maxTopicDuplicates the most records published again after one injection
   * @param recoveryS the longest recovery after an injection, in seconds: from the fault's release
   *     until the consumer had applied as many events as were committed at that moment (none
   *     without injections: the JSON has null)
   * @param seed the run's seed ({@code -Dunpoll.faults.seed})
   */
  record Fault(
      String fault,
      String name,
      int injections,
      long events,
      long lost,
      long duplicateEffects,
      long maxTopicDuplicates,
      double recoveryS,
      long seed) {
    ObjectNode json() {
      ObjectNode n = JSON.createObjectNode();
      n.put("fault", fault);
      n.put("name", name);
      n.put("injections", injections);
      n.put("events", events);
      n.put("lost", lost);
      n.put("duplicate_effects", duplicateEffects);
      n.put("max_topic_duplicates", maxTopicDuplicates);
      if (injections == 0) {
        n.putNull("recovery_s"); // nothing injected and released: no recovery to measure
      } else {
        n.put("recovery_s", Math.round(recoveryS * 10) / 10.0);
      }
      n.put("seed", seed);
      return n;
    }
  }

  private FaultResults() {}

  static Path moduleDir() {
    return Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  }

  static Path resultsFile() {
    return moduleDir().resolve("../docs/reliability/results.json").normalize();
  }

  static Path docFile() {
    return moduleDir().resolve("../docs/reliability.md").normalize();
  }

  /** Writes the run's figures; publishes them into the docs when asked to. */
  static synchronized void record(Fault f) throws IOException {
    Path dir = moduleDir().resolve("target/reliability");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(f.fault() + ".json"), JSON.writeValueAsString(f.json()));
    if (!Boolean.getBoolean("unpoll.faults.publish")) {
      return;
    }
    // the module's tests run in two forks: one writer at a time, or one fault's entry is lost
    try (java.nio.channels.FileChannel lock =
            java.nio.channels.FileChannel.open(
                dir.resolve("publish.lock"),
                java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE);
        java.nio.channels.FileLock held = lock.lock()) {
      publish(f);
    }
  }

  private static void publish(Fault f) throws IOException {
    Path results = resultsFile();
    ObjectNode root =
        Files.exists(results)
            ? (ObjectNode) JSON.readTree(results.toFile())
            : JSON.createObjectNode();
    root.set("machine", machine());
    ObjectNode settings = JSON.createObjectNode();
    settings.put("injections_per_fault", Harness.INJECTIONS);
    settings.put("large_rows", Harness.LARGE_ROWS);
    settings.put("rate_per_s", LoadGenerator.RATE);
    root.set("settings", settings);
    List<JsonNode> faults = new ArrayList<>();
    if (root.has("faults")) {
      root.get("faults").forEach(faults::add);
    }
    faults.removeIf(n -> n.get("fault").asText().equals(f.fault()));
    ObjectNode entry = f.json();
    entry.put("run_at", Instant.now().toString());
    faults.add(entry);
    faults.sort(Comparator.comparing(n -> sortKey(n.get("fault").asText())));
    ArrayNode array = JSON.createArrayNode();
    faults.forEach(array::add);
    root.set("faults", array);
    Files.createDirectories(results.getParent());
    Files.writeString(results, JSON.writeValueAsString(root) + "\n");
    Path doc = docFile();
    Files.writeString(doc, render(Files.readString(doc), root));
  }

  /** {@code 2b} sorts after {@code 2a} and before {@code 10}. */
  static String sortKey(String fault) {
    int digits = 0;
    while (digits < fault.length() && Character.isDigit(fault.charAt(digits))) {
      digits++;
    }
    return String.format("%04d", Integer.parseInt(fault.substring(0, digits)))
        + fault.substring(digits);
  }

  private static ObjectNode machine() {
    ObjectNode m = JSON.createObjectNode();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    m.put("java", System.getProperty("java.version"));
    try {
      Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name"))
          .findFirst()
          .ifPresent(l -> m.put("cpu", l.substring(l.indexOf(':') + 1).trim()));
    } catch (IOException | RuntimeException e) {
      // not Linux: the cpu is left out
    }
    return m;
  }

  /** The page with its generated part replaced by the table of {@code results}. */
  static String render(String doc, JsonNode results) {
    int b = doc.indexOf(BEGIN);
    int e = doc.indexOf(END);
    if (b < 0 || e < b) {
      throw new IllegalStateException(
          "docs/reliability.md has no generated part: add the lines " + BEGIN + " and " + END);
    }
    return doc.substring(0, b + BEGIN.length()) + "\n" + table(results) + doc.substring(e);
  }

  /** The figures table and the settings line. */
  static String table(JsonNode results) {
    StringBuilder t = new StringBuilder();
    JsonNode s = results.get("settings");
    JsonNode m = results.get("machine");
    t.append(
        String.format(
            Locale.ROOT,
            "Run with %d injections per fault, large transactions of %,d rows, %d small"
                + " transactions/s, on %d cores (%s, Java %s).%n%n",
            s.get("injections_per_fault").asInt(),
            s.get("large_rows").asInt(),
            s.get("rate_per_s").asInt(),
            m.get("cores").asInt(),
            m.has("cpu") ? m.get("cpu").asText() : m.get("os").asText(),
            m.get("java").asText()));
    t.append(
        "| fault | injections | events | lost | duplicate effects | largest topic duplicate"
            + " window | recovery (s, longest) | seed |\n");
    t.append("|---|---|---|---|---|---|---|---|\n");
    for (JsonNode f : results.get("faults")) {
      t.append(
          String.format(
              Locale.ROOT,
              "| %s. %s | %d | %,d | %d | %d | %,d | %s | %d |%n",
              f.get("fault").asText(),
              f.get("name").asText(),
              f.get("injections").asInt(),
              f.get("events").asLong(),
              f.get("lost").asLong(),
              f.get("duplicate_effects").asLong(),
              f.get("max_topic_duplicates").asLong(),
              f.get("recovery_s").isNull()
                  ? "–"
                  : String.format(Locale.ROOT, "%.1f", f.get("recovery_s").asDouble()),
              f.get("seed").asLong()));
    }
    return t.toString();
  }
}
