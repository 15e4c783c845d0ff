package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.GateFigures;
import dev.unpoll.migration.Reconciliation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A gate as the phase commands print it. The figures are the components of the gate's {@link
 * GateFigures} record, in declaration order: their names are the JSON keys of {@code figures}.
 */
final class GateView {
  /**
   * Key samples the text output has always printed as JSON arrays ({@code ["k1","k2"]}); other
   * lists print as {@code [a, b]}. Kept so the text of a failing gate reads as before.
   */
  private static final Set<String> JSON_TEXT_LISTS =
      Set.of("missingKeys", "missingInLedgerKeys", "doubleHandledKeys", "unhandledKeys");

  private GateView() {}

  /** The gate as one JSON object: name, passed, detail, figures. */
  static ObjectNode json(Gate g) {
    ObjectNode gn = BaseCommand.JSON.createObjectNode();
    gn.put("name", g.name());
    gn.put("passed", g.passed());
    gn.put("detail", g.detail());
    ObjectNode figures = gn.putObject("figures");
    figures(g.figures()).forEach((k, v) -> figures.set(k, json(v)));
    return gn;
  }

  /** The figures as {@code name = value} lines' parts, in order. */
  static List<String> textLines(Gate g) {
    List<String> lines = new ArrayList<>();
    figures(g.figures())
        .forEach(
            (k, v) ->
                lines.add(
                    k
                        + " = "
                        + (v instanceof Reconciliation.Latency || JSON_TEXT_LISTS.contains(k)
                            ? json(v).toString()
                            : String.valueOf(v))));
    return lines;
  }

  private static Map<String, Object> figures(GateFigures f) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (RecordComponent c : f.getClass().getRecordComponents()) {
      try {
        m.put(c.getName(), c.getAccessor().invoke(f));
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("cannot read figure " + c.getName() + " of " + f, e);
      }
    }
    return m;
  }

  private static JsonNode json(Object v) {
    if (v instanceof Reconciliation.Latency l) {
      return VerifyCommand.json(l);
    }
    if (v instanceof List<?> list) {
      ArrayNode a = BaseCommand.JSON.createArrayNode();
      list.forEach(x -> a.add(String.valueOf(x)));
      return a;
    }
    return BaseCommand.JSON.valueToTree(v);
  }
}
