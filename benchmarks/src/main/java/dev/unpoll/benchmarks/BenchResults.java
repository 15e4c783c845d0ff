package dev.unpoll.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The one results file of the full benchmark runs, {@code docs/benchmarks/results.json}: the
 * machine, each harness's settings and {@code measures}, one entry per measure id ({@code R1},
 * sub-measures such as {@code R1.ceiling.decode}). A harness run with {@code --publish} merges its
 * entries into it: an entry with the same id is replaced, the others are kept, so the file holds
 * the latest full run of every measure.
 *
 * <pre>
 * {
 *   "machine": {"cores": 2, "cpu": "...", "memory_bytes": ..., "java": "17.0.15 (...)", "os": "..."},
 *   "settings": {"R1": {"rows": 1000000, "rounds": 3, ...}},
 *   "measures": [
 *     {"id": "R1", "value": ..., "baseline": ..., "ratio": {"median": ..., "min": ..., "max": ...},
 *      "goal": "≥ 0.6", "met": false, "unit": "rows/s", "ratio_of": "relay ÷ min(...)"}
 *   ]
 * }
 * </pre>
 */
final class BenchResults {
  /** Where the full runs publish, relative to the directory the harness runs from. */
  static final Path DEFAULT_FILE = Path.of("docs", "benchmarks", "results.json");

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private BenchResults() {}

  /** Median, min and max of per-round ratios. */
  record Ratio(double median, double min, double max) {
    static Ratio of(List<Double> perRound) {
      return new Ratio(Stats.median(perRound), Stats.min(perRound), Stats.max(perRound));
    }
  }

  /**
   * One measure. {@code baseline}, {@code ratio}, {@code goal} and {@code met} are null where the
   * measure has none (a ceiling is itself a baseline); {@code ratioOf} says what the ratio divides.
   */
  record Measure(
      String id,
      double value,
      Double baseline,
      Ratio ratio,
      String ratioOf,
      String goal,
      Boolean met,
      String unit) {}

  /**
   * Merges {@code measures} and the harness's {@code settings} (under {@code harness}) into {@code
   * file}, creating it if absent; the machine is replaced by this one.
   */
  static void merge(Path file, String harness, Map<String, Object> settings, List<Measure> measures)
      throws IOException {
    merge(file, machine(), harness, settings, measures);
  }

  static void merge(
      Path file,
      Map<String, Object> machine,
      String harness,
      Map<String, Object> settings,
      List<Measure> measures)
      throws IOException {
    ObjectNode root =
        Files.exists(file) ? (ObjectNode) JSON.readTree(file.toFile()) : JSON.createObjectNode();
    ObjectNode out = JSON.createObjectNode();
    out.set("machine", JSON.valueToTree(machine));
    ObjectNode allSettings =
        root.get("settings") instanceof ObjectNode s ? s : JSON.createObjectNode();
    allSettings.set(harness, JSON.valueToTree(settings));
    out.set("settings", allSettings);

    Map<String, JsonNode> byId = new LinkedHashMap<>();
    if (root.get("measures") instanceof ArrayNode old) {
      for (JsonNode m : old) {
        byId.put(m.path("id").asText(), m);
      }
    }
    for (Measure m : measures) {
      byId.put(m.id(), node(m)); // same id: replaced in place; new id: appended
    }
    ArrayNode list = out.putArray("measures");
    byId.values().forEach(list::add);
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    JSON.writeValue(tmp.toFile(), out);
    Files.move(
        tmp,
        file,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static ObjectNode node(Measure m) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", m.id());
    number(n, "value", m.value());
    if (m.baseline() == null) {
      n.putNull("baseline");
    } else {
      number(n, "baseline", m.baseline());
    }
    if (m.ratio() == null) {
      n.putNull("ratio");
    } else {
      ObjectNode r = n.putObject("ratio");
      number(r, "median", m.ratio().median());
      number(r, "min", m.ratio().min());
      number(r, "max", m.ratio().max());
    }
    n.put("ratio_of", m.ratioOf());
    n.put("goal", m.goal());
    if (m.met() == null) {
      n.putNull("met");
    } else {
      n.put("met", m.met());
    }
    n.put("unit", m.unit());
    return n;
  }

  /** JSON has no NaN: a figure that could not be measured is null. */
  private static void number(ObjectNode n, String field, double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      n.putNull(field);
    } else {
      n.put(field, Math.round(value * 1000) / 1000.0);
    }
  }

  /** This machine: cores, CPU model, memory, Java and OS. */
  static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("cpu", cpuModel());
    long memory = -1;
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      memory = os.getTotalMemorySize();
    }
    m.put("memory_bytes", memory);
    m.put(
        "java",
        System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
    m.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    return m;
  }

  private static String cpuModel() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
      List<String> models = new ArrayList<>();
      lines
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .forEach(models::add);
      return models.isEmpty() ? "unknown" : models.get(0);
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
