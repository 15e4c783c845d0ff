package dev.unpoll.migration.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.unpoll.migration.MigrationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the relay's configuration file (docs/reference/configuration.md) for the CLI: the YAML tree
 * with {@code ${NAME}} / {@code ${NAME:-default}} replaced from the environment. The CLI reads only
 * what it needs ({@code source}, {@code kafka}, {@code tables}); validating every key is the
 * relay's job.
 */
public final class ConfigFile {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern VARIABLE =
      Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");

  private final Path path;
  private final JsonNode root;

  private ConfigFile(Path path, JsonNode root) {
    this.path = path;
    this.root = root;
  }

  /** Reads and substitutes the file; a missing or malformed file is a usage error. */
  public static ConfigFile read(Path path, Map<String, String> env) {
    String text;
    try {
      text = Files.readString(path);
    } catch (NoSuchFileException e) {
      throw MigrationException.usage("--config: file " + path + " does not exist");
    } catch (IOException e) {
      throw MigrationException.usage("--config: cannot read " + path + ": " + e.getMessage());
    }
    JsonNode tree;
    try {
      tree = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw MigrationException.usage(
          "--config: "
              + path
              + " is not valid YAML: "
              + e.getOriginalMessage().lines().findFirst().orElse(""));
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      tree = YAML.createObjectNode();
    }
    if (!tree.isObject()) {
      throw MigrationException.usage("--config: " + path + " must be a YAML mapping at the top");
    }
    List<String> problems = new ArrayList<>();
    JsonNode substituted = substitute(tree, "", env, problems);
    if (!problems.isEmpty()) {
      throw MigrationException.usage("--config: " + path + ": " + String.join("; ", problems));
    }
    return new ConfigFile(path, substituted);
  }

  /** The file's path. */
  public Path path() {
    return path;
  }

  /** The text at a dotted path ({@code source.jdbc-url}), or null when absent. */
  public String text(String dottedPath) {
    JsonNode node = node(dottedPath);
    return node.isMissingNode() || node.isNull() ? null : node.asText();
  }

  /** The node at a dotted path, {@link MissingNode} when absent. */
  public JsonNode node(String dottedPath) {
    JsonNode node = root;
    for (String key : dottedPath.split("\\.")) {
      node = node.path(key);
    }
    return node;
  }

  /** The {@code tables} entries (possibly empty). */
  public List<JsonNode> tables() {
    List<JsonNode> list = new ArrayList<>();
    node("tables").forEach(list::add);
    return list;
  }

  private static JsonNode substitute(
      JsonNode node, String at, Map<String, String> env, List<String> problems) {
    if (node.isTextual()) {
      return TextNode.valueOf(replace(node.asText(), at, env, problems));
    }
    if (node.isObject()) {
      ObjectNode copy = YAML.createObjectNode();
      Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        String child = at.isEmpty() ? e.getKey() : at + "." + e.getKey();
        copy.set(e.getKey(), substitute(e.getValue(), child, env, problems));
      }
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = YAML.createArrayNode();
      for (int i = 0; i < node.size(); i++) {
        copy.add(substitute(node.get(i), at + "[" + i + "]", env, problems));
      }
      return copy;
    }
    return node;
  }

  static String replace(String value, String at, Map<String, String> env, List<String> problems) {
    Matcher m = VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1);
      String replacement = env.get(name);
      if (replacement == null) {
        replacement = m.group(2) != null ? m.group(3) : null;
      }
      if (replacement == null) {
        problems.add(
            at
                + ": environment variable "
                + name
                + " is not set (set it or write ${"
                + name
                + ":-default})");
        replacement = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }
}
