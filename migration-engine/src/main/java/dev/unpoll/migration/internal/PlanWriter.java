package dev.unpoll.migration.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes one table's entry under {@code tables:} in the configuration file's text, keeping every
 * other line (comments included) as it was: the entry of the same table is replaced, a new one is
 * appended to the list, and a file without {@code tables:} gets the section at its end.
 */
public final class PlanWriter {
  private static final Pattern TOP_KEY = Pattern.compile("^[A-Za-z0-9_-]+\\s*:.*");
  private static final Pattern ITEM = Pattern.compile("^(\\s*)-\\s+(.*)$");
  private static final Pattern TABLE_KEY = Pattern.compile("^table\\s*:\\s*(.*?)\\s*(#.*)?$");

  private PlanWriter() {}

  /** The result of a merge: the new text and whether an entry was replaced. */
  public record Result(String text, boolean replaced) {}

  /** Merges {@code mapping} for {@code table} into {@code yaml} (may be empty). */
  public static Result merge(String yaml, TableName table, ObjectNode mapping) {
    List<String> lines =
        new ArrayList<>(yaml.isEmpty() ? List.of() : List.of(yaml.split("\n", -1)));
    if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1);
    }
    int tablesAt = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).matches("^tables\\s*:\\s*(#.*)?$")) {
        tablesAt = i;
        break;
      }
      if (lines.get(i).matches("^tables\\s*:\\s*\\[\\s*]\\s*(#.*)?$")) {
        lines.set(i, "tables:");
        tablesAt = i;
        break;
      }
    }
    List<String> entry = render(mapping);
    boolean replaced = false;
    if (tablesAt < 0) {
      if (!lines.isEmpty() && !lines.get(lines.size() - 1).isBlank()) {
        lines.add("");
      }
      lines.add("tables:");
      lines.addAll(indent(entry, "  "));
    } else {
      int end = lines.size();
      for (int i = tablesAt + 1; i < lines.size(); i++) {
        if (TOP_KEY.matcher(lines.get(i)).matches()) {
          end = i;
          break;
        }
      }
      String itemIndent = null;
      List<int[]> items = new ArrayList<>();
      for (int i = tablesAt + 1; i < end; i++) {
        Matcher m = ITEM.matcher(lines.get(i));
        if (m.matches() && (itemIndent == null || m.group(1).equals(itemIndent))) {
          itemIndent = m.group(1);
          items.add(new int[] {i, -1});
        }
      }
      int lastContent = tablesAt;
      for (int i = tablesAt + 1; i < end; i++) {
        if (!lines.get(i).isBlank() && !lines.get(i).trim().startsWith("#")) {
          lastContent = i;
        }
      }
      for (int k = 0; k < items.size(); k++) {
        int next = k + 1 < items.size() ? items.get(k + 1)[0] : lastContent + 1;
        while (next - 1 > items.get(k)[0]
            && (lines.get(next - 1).isBlank() || lines.get(next - 1).trim().startsWith("#"))) {
          next--;
        }
        items.get(k)[1] = next;
      }
      String indent = itemIndent == null ? "  " : itemIndent;
      for (int[] item : items) {
        if (names(lines, item, indent, table)) {
          List<String> replacement = indent(entry, indent);
          for (int i = item[1] - 1; i >= item[0]; i--) {
            lines.remove(i);
          }
          lines.addAll(item[0], replacement);
          replaced = true;
          break;
        }
      }
      if (!replaced) {
        lines.addAll(lastContent + 1, indent(entry, indent));
      }
    }
    String text = String.join("\n", lines) + "\n";
    check(text, table);
    return new Result(text, replaced);
  }

  private static boolean names(List<String> lines, int[] item, String indent, TableName table) {
    for (int i = item[0]; i < item[1]; i++) {
      String line = lines.get(i);
      String body = i == item[0] ? ITEM.matcher(line).replaceFirst("$2") : line.trim();
      Matcher m = TABLE_KEY.matcher(body);
      if (m.matches() && (i == item[0] || line.startsWith(indent + "  "))) {
        try {
          JsonNode value = ConfigFile.YAML.readTree(m.group(1));
          return value != null && Names.table(value.asText()).equals(table);
        } catch (JsonProcessingException | MigrationException e) {
          return false;
        }
      }
    }
    return false;
  }

  /** The mapping as YAML lines of a list item ({@code - table: ...}). */
  static List<String> render(ObjectNode mapping) {
    List<String> out = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> it = mapping.properties().iterator();
    boolean first = true;
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String prefix = first ? "- " : "  ";
      first = false;
      JsonNode v = e.getValue();
      if (v.isObject()) {
        out.add(prefix + e.getKey() + ":");
        Iterator<Map.Entry<String, JsonNode>> inner = v.properties().iterator();
        while (inner.hasNext()) {
          Map.Entry<String, JsonNode> ie = inner.next();
          out.add("    " + ie.getKey() + ": " + scalarOrFlow(ie.getValue()));
        }
      } else {
        out.add(prefix + e.getKey() + ": " + scalarOrFlow(v));
      }
    }
    return out;
  }

  private static String scalarOrFlow(JsonNode v) {
    if (v.isArray()) {
      List<String> items = new ArrayList<>();
      v.forEach(i -> items.add(scalar(i)));
      return "[" + String.join(", ", items) + "]";
    }
    return scalar(v);
  }

  private static String scalar(JsonNode v) {
    if (v.isBoolean() || v.isNumber()) {
      return v.asText();
    }
    String s = v.asText();
    if (s.matches("[A-Za-z_][A-Za-z0-9_.\\-]*")
        && !s.matches("(?i)true|false|yes|no|on|off|null|y|n|~")) {
      return s;
    }
    return "'" + s.replace("'", "''") + "'";
  }

  private static List<String> indent(List<String> lines, String indent) {
    List<String> out = new ArrayList<>();
    lines.forEach(l -> out.add(indent + l));
    return out;
  }

  private static void check(String text, TableName table) {
    try {
      JsonNode tree = ConfigFile.YAML.readTree(text);
      for (JsonNode t : tree.path("tables")) {
        if (Names.table(t.path("table").asText()).equals(table)) {
          return;
        }
      }
    } catch (JsonProcessingException | MigrationException e) {
      throw new MigrationException(
          "the file would not be valid YAML after adding "
              + table.display()
              + "; add the mapping by hand: "
              + e.getMessage(),
          e);
    }
    throw new MigrationException(
        "could not place the mapping of " + table.display() + " in the file; add it by hand");
  }
}
