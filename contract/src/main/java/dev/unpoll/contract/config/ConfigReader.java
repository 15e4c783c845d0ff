package dev.unpoll.contract.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.unpoll.contract.OutboxFormat;
import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.TableMapping.Status;
import dev.unpoll.contract.config.TableMapping.ValueMode;
import dev.unpoll.contract.config.UnpollConfig.Ha;
import dev.unpoll.contract.config.UnpollConfig.Http;
import dev.unpoll.contract.config.UnpollConfig.Kafka;
import dev.unpoll.contract.config.UnpollConfig.Monitoring;
import dev.unpoll.contract.config.UnpollConfig.OffsetStore;
import dev.unpoll.contract.config.UnpollConfig.Offsets;
import dev.unpoll.contract.config.UnpollConfig.Outbox;
import dev.unpoll.contract.config.UnpollConfig.Source;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the YAML configuration into {@link UnpollConfig}, collecting every problem (path, bad
 * value, fix) before failing. Unknown keys are problems too.
 */
public final class ConfigReader {

  private static final String AGGREGATE_TYPE_PLACEHOLDER = UnpollConfig.AGGREGATE_TYPE_PLACEHOLDER;

  private static final Pattern ENV =
      Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
  private static final Pattern SIZE = Pattern.compile("(\\d+)(B|KB|MB|GB|TB)?");
  private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
  private static final Set<String> SECRET_KEYS = Set.of("password", "sasl.jaas.config");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final Map<String, String> env;
  private final List<String> problems = new ArrayList<>();
  private boolean lenient;

  /** A reader substituting {@code ${NAME}} from {@code env}. */
  public ConfigReader(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /**
   * Reads what the file says, for a tool that takes the rest from its own options (the {@code
   * unpoll} command): every section and setting may be missing, and each one present is checked
   * exactly as the relay checks it. Settings of {@code source} the file does not have are null in
   * the returned {@link UnpollConfig.Source}.
   *
   * @throws ConfigException listing every problem
   */
  public UnpollConfig.Partial readPartial(String yaml) {
    lenient = true;
    ObjectNode top = root(yaml);
    keys(
        top,
        "",
        Set.of("source", "kafka", "offsets", "outbox", "tables", "http", "ha", "monitoring"));
    Source source = source(object(top, "source", false));
    Kafka kafka = kafka(object(top, "kafka", false));
    List<TableMapping> tables = tables(top.get("tables"));
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new UnpollConfig.Partial(
        Optional.ofNullable(source), Optional.ofNullable(kafka), tables);
  }

  /**
   * Reads only the {@code tables} section: what an application needs to run a mapped table's
   * consumer. Other sections, and the environment variables they name, are not read.
   *
   * @throws ConfigException listing every problem of the section
   */
  public List<TableMapping> readTables(String yaml) {
    ObjectNode top = root(yaml);
    List<TableMapping> tables = tables(top.get("tables"));
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return tables;
  }

  /**
   * Reads only the sections a capture maps changes with, {@code tables} and {@code outbox}, each
   * checked exactly as the relay checks it: the configuration of the Kafka Connect transformation,
   * which has no source or kafka section of its own. Any other section is refused.
   *
   * @throws ConfigException listing every problem
   */
  public UnpollConfig.Capture readCapture(String yaml) {
    ObjectNode top = root(yaml);
    keys(top, "", Set.of("outbox", "tables"));
    Optional<Outbox> outbox = outbox(object(top, "outbox", false));
    List<TableMapping> tables = tables(top.get("tables"));
    if (tables.isEmpty() && outbox.isEmpty() && problems.isEmpty()) {
      problem("tables", "empty, and no outbox section", "map at least one table or enable outbox");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new UnpollConfig.Capture(outbox, tables);
  }

  /**
   * Reads one table mapping given as a tree (an entry of {@code tables}, or a mapping the migration
   * engine recorded).
   *
   * @param where how to name the mapping in problems, e.g. {@code tables[public.orders]}
   * @throws ConfigException listing every problem
   */
  public TableMapping readMapping(JsonNode node, String where) {
    TableMapping m = null;
    if (node == null || !node.isObject()) {
      problem(
          where, node == null ? "missing" : describe(node), "use a mapping with table and topic");
    } else {
      m = table(where, (ObjectNode) node);
    }
    if (!problems.isEmpty() || m == null) {
      throw new ConfigException(problems);
    }
    return m;
  }

  private ObjectNode root(String yaml) {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (Exception e) {
      throw new ConfigException(
          List.of(
              "config: not valid YAML (" + e.getMessage().lines().findFirst().orElse("") + ")"));
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return YAML.createObjectNode();
    }
    if (!root.isObject()) {
      throw new ConfigException(
          List.of("config: expected a YAML mapping at the top; got " + describe(root)));
    }
    return (ObjectNode) root;
  }

  /**
   * Parses and validates.
   *
   * @throws ConfigException listing every problem
   */
  public UnpollConfig read(String yaml) {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (Exception e) {
      throw new ConfigException(
          List.of(
              "config: not valid YAML (" + e.getMessage().lines().findFirst().orElse("") + ")"));
    }
    if (root == null || !root.isObject()) {
      throw new ConfigException(
          List.of(
              "config: expected a YAML mapping with source, kafka and tables; got an empty or scalar document"));
    }
    ObjectNode top = (ObjectNode) root;
    keys(
        top,
        "",
        Set.of("source", "kafka", "offsets", "outbox", "tables", "http", "ha", "monitoring"));
    Source source = source(object(top, "source", true));
    Kafka kafka = kafka(object(top, "kafka", true));
    Offsets offsets = offsets(object(top, "offsets", false));
    Optional<Outbox> outbox = outbox(object(top, "outbox", false));
    List<TableMapping> tables = tables(top.get("tables"));
    if (tables.isEmpty() && outbox.isEmpty() && problems.isEmpty()) {
      problem("tables", "empty, and no outbox section", "map at least one table or enable outbox");
    }
    ObjectNode httpNode = object(top, "http", false);
    keys(httpNode, "http", Set.of("port"));
    Http http =
        new Http(intValue(httpNode, "http", "port", UnpollConfig.DEFAULT_HTTP_PORT, 0, 65535));
    ObjectNode haNode = object(top, "ha", false);
    keys(haNode, "ha", Set.of("enabled", "lock-name"));
    String slot = source == null ? "relay" : source.slot();
    Ha ha =
        new Ha(
            bool(haNode, "ha", "enabled", false),
            string(haNode, "ha", "lock-name", false).orElse("unpoll-relay-" + slot));
    ObjectNode monNode = object(top, "monitoring", false);
    keys(monNode, "monitoring", Set.of("retained-wal-warning"));
    Monitoring monitoring =
        new Monitoring(
            size(
                monNode,
                "monitoring",
                "retained-wal-warning",
                UnpollConfig.DEFAULT_RETAINED_WAL_WARNING));
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new UnpollConfig(source, kafka, offsets, outbox, tables, http, ha, monitoring);
  }

  private Source source(ObjectNode node) {
    if (node == null) {
      return null;
    }
    keys(
        node,
        "source",
        Set.of(
            "jdbc-url",
            "user",
            "password",
            "slot",
            "publication",
            "heartbeat-interval",
            "poll-interval"));
    String url =
        required(
            node,
            "source",
            "jdbc-url",
            "the source database, e.g. jdbc:postgresql://db:5432/orders");
    if (url != null && JdbcUrl.parse(url).isEmpty()) {
      problem(
          "source.jdbc-url",
          "\"" + url + "\"",
          "use jdbc:postgresql://host[:port]/database[?params]");
    }
    String user = required(node, "source", "user", "a user with the REPLICATION attribute");
    String password = string(node, "source", "password", false).orElse(lenient ? null : "");
    String slot = required(node, "source", "slot", "a replication slot name, e.g. unpoll_orders");
    if (slot != null && !RelayNames.isValidSlotName(slot)) {
      problem("source.slot", "\"" + slot + "\"", "use " + RelayNames.SLOT_NAME_RULE);
    }
    String publication =
        required(node, "source", "publication", "a publication name, e.g. unpoll_orders");
    if (publication != null && !RelayNames.isValidPublicationName(publication)) {
      problem(
          "source.publication",
          "\"" + publication + "\"",
          "use " + RelayNames.PUBLICATION_NAME_RULE);
    }
    Duration heartbeat =
        duration(node, "source", "heartbeat-interval", UnpollConfig.DEFAULT_HEARTBEAT_INTERVAL);
    if (heartbeat != null && heartbeat.compareTo(Duration.ofMillis(100)) < 0) {
      problem("source.heartbeat-interval", heartbeat.toMillis() + "ms", "use at least 100ms");
    }
    Duration poll = duration(node, "source", "poll-interval", UnpollConfig.DEFAULT_POLL_INTERVAL);
    if (poll != null
        && (poll.compareTo(Duration.ofMillis(1)) < 0
            || poll.compareTo(Duration.ofSeconds(1)) > 0)) {
      problem("source.poll-interval", poll.toMillis() + "ms", "use 1ms to 1s (default 10ms)");
    }
    return new Source(url, user, password, slot, publication, heartbeat, poll);
  }

  private Kafka kafka(ObjectNode node) {
    if (node == null) {
      return null;
    }
    keys(node, "kafka", Set.of("bootstrap-servers", "properties"));
    String servers = required(node, "kafka", "bootstrap-servers", "host:port[,host:port...]");
    Map<String, String> props = new LinkedHashMap<>();
    JsonNode p = node.get("properties");
    if (p != null && !p.isNull()) {
      if (!p.isObject()) {
        problem("kafka.properties", describe(p), "use a mapping of producer property: value");
      } else {
        for (Map.Entry<String, JsonNode> e : p.properties()) {
          String path = "kafka.properties." + e.getKey();
          if (!e.getValue().isValueNode() || e.getValue().isNull()) {
            problem(path, describe(e.getValue()), "use a scalar value");
            continue;
          }
          String v = substitute(path, e.getValue().asText());
          if (v != null) {
            checkProducerProperty(path, e.getKey(), v);
            props.put(e.getKey(), v);
          }
        }
      }
    }
    return new Kafka(servers, props);
  }

  /** Rejects properties that would weaken delivery or that the relay sets itself. */
  private void checkProducerProperty(String path, String key, String value) {
    switch (key) {
      case "acks" -> {
        if (!value.equals("all") && !value.equals("-1")) {
          problem(
              path, "\"" + value + "\"", "remove it: the relay needs acks=all for at-least-once");
        }
      }
      case "enable.idempotence" -> {
        if (!value.equals("true")) {
          problem(
              path,
              "\"" + value + "\"",
              "remove it: the relay needs the idempotent producer to keep order");
        }
      }
      case "max.in.flight.requests.per.connection" -> {
        if (!value.matches("[1-5]")) {
          problem(path, "\"" + value + "\"", "use 1 to 5 (more breaks ordering with idempotence)");
        }
      }
      case "bootstrap.servers", "key.serializer", "value.serializer", "transactional.id" ->
          problem(
              path,
              "\"" + value + "\"",
              "remove it: the relay sets it (bootstrap.servers: use kafka.bootstrap-servers)");
      default -> {}
    }
  }

  private Offsets offsets(ObjectNode node) {
    keys(node, "offsets", Set.of("store", "file"));
    String store = string(node, "offsets", "store", false).orElse("jdbc");
    Optional<String> file = string(node, "offsets", "file", false);
    OffsetStore s;
    switch (store) {
      case "jdbc" -> s = OffsetStore.JDBC;
      case "file" -> s = OffsetStore.FILE;
      default -> {
        problem("offsets.store", "\"" + store + "\"", "use jdbc or file");
        s = OffsetStore.JDBC;
      }
    }
    if (s == OffsetStore.FILE && file.isEmpty()) {
      problem("offsets.file", "missing", "with store: file, name the offsets file");
    }
    if (s == OffsetStore.JDBC && file.isPresent() && store.equals("jdbc")) {
      problem("offsets.file", "\"" + file.get() + "\"", "remove it, or set store: file");
    }
    return new Offsets(s, file.map(Path::of));
  }

  private Optional<Outbox> outbox(ObjectNode node) {
    if (node == null) {
      return Optional.empty();
    }
    keys(
        node,
        "outbox",
        Set.of("enabled", "table", "topic-pattern", "wal-message-prefix", "columns"));
    boolean enabled = bool(node, "outbox", "enabled", true);
    String tableText =
        string(node, "outbox", "table", false).orElse(UnpollConfig.DEFAULT_OUTBOX_TABLE);
    Optional<TableName> table = Optional.empty();
    if (!tableText.equals("none")) {
      try {
        table = Optional.of(TableName.parse(tableText));
      } catch (IllegalArgumentException e) {
        problem(
            "outbox.table",
            "\"" + tableText + "\"",
            e.getMessage() + "; or none for WAL messages only");
      }
    }
    String pattern =
        string(node, "outbox", "topic-pattern", false).orElse(UnpollConfig.DEFAULT_TOPIC_PATTERN);
    if (!TOPIC.matcher(pattern.replace(AGGREGATE_TYPE_PLACEHOLDER, "x")).matches()) {
      problem(
          "outbox.topic-pattern",
          "\"" + pattern + "\"",
          "use topic characters (a-z, A-Z, 0-9, . _ -) and ${aggregatetype}");
    }
    String prefix =
        string(node, "outbox", "wal-message-prefix", false)
            .orElse(UnpollConfig.DEFAULT_WAL_MESSAGE_PREFIX);
    if (prefix.isEmpty() || prefix.contains(",")) {
      problem(
          "outbox.wal-message-prefix",
          "\"" + prefix + "\"",
          "use a non-empty prefix without commas");
    }
    Map<String, String> columns = new LinkedHashMap<>();
    ObjectNode renamed = object(node, "outbox", "columns");
    if (renamed != null) {
      keys(renamed, "outbox.columns", Set.copyOf(OutboxFormat.RELAY_COLUMNS));
      for (String c : OutboxFormat.RELAY_COLUMNS) {
        Optional<String> name = string(renamed, "outbox.columns", c, false);
        if (name.isPresent()) {
          try {
            columns.put(c, TableName.parseColumn(name.get()));
          } catch (IllegalArgumentException e) {
            problem("outbox.columns." + c, "\"" + name.get() + "\"", e.getMessage());
          }
        }
      }
    }
    return enabled
        ? Optional.of(new UnpollConfig.Outbox(table, pattern, prefix, columns))
        : Optional.empty();
  }

  private List<TableMapping> tables(JsonNode node) {
    List<TableMapping> result = new ArrayList<>();
    if (node == null || node.isNull()) {
      return result;
    }
    if (!node.isArray()) {
      problem("tables", describe(node), "use a list of table mappings (- table: schema.table ...)");
      return result;
    }
    Set<TableName> seen = new HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      String path = "tables[" + i + "]";
      JsonNode t = node.get(i);
      if (!t.isObject()) {
        problem(path, describe(t), "use a mapping with table and topic");
        continue;
      }
      TableMapping m = table(path, (ObjectNode) t);
      if (m != null) {
        if (!seen.add(m.table())) {
          problem(path + ".table", "\"" + m.table() + "\"", "map each table once");
        }
        result.add(m);
      }
    }
    return result;
  }

  private TableMapping table(String path, ObjectNode node) {
    keys(
        node,
        path,
        Set.of(
            "table",
            "topic",
            "key",
            "value",
            "payload-column",
            "event-type",
            "bookkeeping-columns",
            "status",
            "backlog",
            "emit-updates",
            "emit-deletes",
            "created-at-column",
            "processed-at-column"));
    int before = problems.size();
    String tableText = required(node, path, "table", "schema.table, e.g. public.order_integration");
    TableName table = null;
    if (tableText != null) {
      try {
        table = TableName.parse(tableText);
      } catch (IllegalArgumentException e) {
        problem(path + ".table", "\"" + tableText + "\"", e.getMessage());
      }
    }
    String topic = required(node, path, "topic", "the Kafka topic for this table's events");
    if (topic != null && !TOPIC.matcher(topic).matches()) {
      problem(
          path + ".topic", "\"" + topic + "\"", "use 1 to 249 characters of a-z, A-Z, 0-9, . _ -");
    }
    List<String> key = columns(node, path, "key");
    String valueText = string(node, path, "value", false).orElse("row");
    ValueMode value = ValueMode.ROW;
    switch (valueText) {
      case "row" -> value = ValueMode.ROW;
      case "payload" -> value = ValueMode.PAYLOAD;
      default -> problem(path + ".value", "\"" + valueText + "\"", "use row or payload");
    }
    Optional<String> payload = column(node, path, "payload-column");
    if (value == ValueMode.PAYLOAD && payload.isEmpty()) {
      problem(path + ".payload-column", "missing", "with value: payload, name the payload column");
    }
    Optional<String> eventType = string(node, path, "event-type", false);
    List<String> bookkeeping = columns(node, path, "bookkeeping-columns");
    Optional<Status> status = Optional.empty();
    ObjectNode s = object(node, path, "status");
    if (s != null) {
      String sp = path + ".status";
      keys(s, sp, Set.of("column", "pending", "done", "in-progress", "failed"));
      String column = required(s, sp, "column", "the poller's status column, e.g. status");
      if (column != null) {
        try {
          column = TableName.parseColumn(column);
        } catch (IllegalArgumentException e) {
          problem(sp + ".column", "\"" + column + "\"", e.getMessage());
          column = null;
        }
      }
      List<String> pending = values(s, sp, "pending");
      List<String> done = values(s, sp, "done");
      List<String> inProgress = values(s, sp, "in-progress");
      List<String> failed = values(s, sp, "failed");
      Map<String, List<String>> lists = new LinkedHashMap<>();
      lists.put("pending", pending);
      lists.put("done", done);
      lists.put("in-progress", inProgress);
      lists.put("failed", failed);
      Map<String, String> seen = new LinkedHashMap<>();
      for (Map.Entry<String, List<String>> e : lists.entrySet()) {
        for (String v : e.getValue()) {
          String other = seen.putIfAbsent(v, e.getKey());
          if (other != null && !other.equals(e.getKey())) {
            problem(
                sp + "." + e.getKey(),
                "\"" + v + "\"",
                "is also listed under status." + other + "; each status value means one thing");
          }
        }
      }
      if (column != null) {
        status = Optional.of(new Status(column, pending, done, inProgress, failed));
      }
    }
    boolean backlog = bool(node, path, "backlog", false);
    if (backlog && (status.isEmpty() || status.get().pending().isEmpty())) {
      problem(
          path + ".backlog",
          "true",
          "set status.column and status.pending (the condition of rows still to publish), or backlog: false");
    }
    if (backlog && table != null && (table.schema() + table.table()).indexOf(',') >= 0) {
      // Debezium splits its list of snapshot overrides at commas, even inside quotes
      problem(
          path + ".backlog",
          "true",
          "a table name with a comma cannot be read as a backlog (Debezium's snapshot settings split"
              + " names at commas); rename the table, or set backlog: false and hand the pending"
              + " rows over with the poller before capture");
    }
    boolean emitUpdates = bool(node, path, "emit-updates", false);
    boolean emitDeletes = bool(node, path, "emit-deletes", false);
    Optional<String> createdAt = column(node, path, "created-at-column");
    Optional<String> processedAt = column(node, path, "processed-at-column");
    if (problems.size() > before || table == null) {
      return null;
    }
    List<String> bk = new ArrayList<>(bookkeeping);
    if (bk.isEmpty() && status.isPresent()) {
      bk.add(status.get().column());
    }
    return new TableMapping(
        table,
        topic,
        key,
        value,
        payload,
        eventType,
        bk,
        status,
        backlog,
        emitUpdates,
        emitDeletes,
        createdAt,
        processedAt);
  }

  // ---- helpers ----

  private void keys(ObjectNode node, String path, Set<String> allowed) {
    if (node == null) {
      return;
    }
    Iterator<String> it = node.fieldNames();
    while (it.hasNext()) {
      String k = it.next();
      if (!allowed.contains(k)) {
        problem(
            join(path, k),
            "unknown key",
            "remove it; known keys here: " + String.join(", ", allowed.stream().sorted().toList()));
      }
    }
  }

  private ObjectNode object(ObjectNode parent, String key, boolean required) {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      if (required) {
        problem(
            key, "missing", "add the " + key + " section (see docs/reference/configuration.md)");
      }
      return null;
    }
    if (!n.isObject()) {
      problem(key, describe(n), "use a mapping");
      return null;
    }
    return (ObjectNode) n;
  }

  private ObjectNode object(ObjectNode parent, String path, String key) {
    if (parent == null) {
      return null;
    }
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isObject()) {
      problem(join(path, key), describe(n), "use a mapping");
      return null;
    }
    return (ObjectNode) n;
  }

  private String required(ObjectNode node, String path, String key, String what) {
    Optional<String> v = string(node, path, key, true);
    if (v.isEmpty()
        && node != null
        && (node.get(key) == null || node.get(key).isNull())
        && !(lenient && (path.equals("source") || path.equals("kafka")))) {
      problem(join(path, key), "missing", "set it to " + what);
    }
    return v.orElse(null);
  }

  private Optional<String> string(ObjectNode node, String path, String key, boolean nonEmpty) {
    if (node == null) {
      return Optional.empty();
    }
    JsonNode n = node.get(key);
    if (n == null || n.isNull()) {
      return Optional.empty();
    }
    String p = join(path, key);
    if (!n.isValueNode()) {
      problem(p, describe(n), "use a single value");
      return Optional.empty();
    }
    String v = substitute(p, n.asText());
    if (v == null) {
      return Optional.empty();
    }
    if (nonEmpty && v.isBlank()) {
      problem(p, "\"\"", "must not be empty");
      return Optional.empty();
    }
    return Optional.of(v);
  }

  private boolean bool(ObjectNode node, String path, String key, boolean def) {
    Optional<String> v = string(node, path, key, false);
    if (v.isEmpty()) {
      return def;
    }
    return switch (v.get()) {
      case "true" -> true;
      case "false" -> false;
      default -> {
        problem(join(path, key), "\"" + v.get() + "\"", "use true or false");
        yield def;
      }
    };
  }

  private int intValue(ObjectNode node, String path, String key, int def, int min, int max) {
    Optional<String> v = string(node, path, key, false);
    if (v.isEmpty()) {
      return def;
    }
    try {
      int i = Integer.parseInt(v.get());
      if (i < min || i > max) {
        problem(join(path, key), v.get(), "use a number from " + min + " to " + max);
        return def;
      }
      return i;
    } catch (NumberFormatException e) {
      problem(join(path, key), "\"" + v.get() + "\"", "use a number from " + min + " to " + max);
      return def;
    }
  }

  private Duration duration(ObjectNode node, String path, String key, Duration def) {
    Optional<String> v = string(node, path, key, false);
    if (v.isEmpty()) {
      return def;
    }
    Duration d = parseDuration(v.get());
    if (d == null) {
      problem(
          join(path, key), "\"" + v.get() + "\"", "use a duration such as 500ms, 10s, 5m or 1h");
      return def;
    }
    return d;
  }

  /** Parses {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}; null if invalid. */
  static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  private long size(ObjectNode node, String path, String key, long def) {
    Optional<String> v = string(node, path, key, false);
    if (v.isEmpty()) {
      return def;
    }
    long s = parseSize(v.get());
    if (s < 0) {
      problem(
          join(path, key), "\"" + v.get() + "\"", "use a size such as 512MB, 1GB or plain bytes");
      return def;
    }
    return s;
  }

  /** Parses {@code 512MB}, {@code 1GB} or bytes; -1 if invalid. */
  static long parseSize(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      return -1;
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "B" : m.group(2);
    int shift =
        switch (unit) {
          case "KB" -> 10;
          case "MB" -> 20;
          case "GB" -> 30;
          case "TB" -> 40;
          default -> 0;
        };
    return n << shift;
  }

  private Optional<String> column(ObjectNode node, String path, String key) {
    Optional<String> v = string(node, path, key, true);
    if (v.isEmpty()) {
      return v;
    }
    try {
      return Optional.of(TableName.parseColumn(v.get()));
    } catch (IllegalArgumentException e) {
      problem(join(path, key), "\"" + v.get() + "\"", e.getMessage());
      return Optional.empty();
    }
  }

  private List<String> columns(ObjectNode node, String path, String key) {
    List<String> raw = values(node, path, key);
    List<String> result = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      String c = raw.get(i);
      try {
        result.add(TableName.parseColumn(c));
      } catch (IllegalArgumentException e) {
        problem(join(path, key) + "[" + i + "]", "\"" + c + "\"", e.getMessage());
      }
    }
    return result;
  }

  private List<String> values(ObjectNode node, String path, String key) {
    List<String> result = new ArrayList<>();
    if (node == null) {
      return result;
    }
    JsonNode n = node.get(key);
    if (n == null || n.isNull()) {
      return result;
    }
    String p = join(path, key);
    if (n.isValueNode()) {
      String v = substitute(p, n.asText());
      if (v != null) {
        result.add(v);
      }
      return result;
    }
    if (!n.isArray()) {
      problem(p, describe(n), "use a list, e.g. [a, b]");
      return result;
    }
    for (int i = 0; i < n.size(); i++) {
      JsonNode e = n.get(i);
      if (!e.isValueNode() || e.isNull()) {
        problem(p + "[" + i + "]", describe(e), "use a scalar");
        continue;
      }
      String v = substitute(p + "[" + i + "]", e.asText());
      if (v != null) {
        result.add(v);
      }
    }
    return result;
  }

  /** Replaces {@code ${NAME}} and {@code ${NAME:-default}}; null (and a problem) if unset. */
  private String substitute(String path, String text) {
    StringBuilder out = new StringBuilder();
    Matcher m = ENV.matcher(text);
    int last = 0;
    boolean ok = true;
    while (m.find()) {
      out.append(text, last, m.start());
      last = m.end();
      if (m.group().equals(AGGREGATE_TYPE_PLACEHOLDER)) {
        out.append(m.group());
        continue;
      }
      String value = env.get(m.group(1));
      if (value == null) {
        value = m.group(2);
      }
      if (value == null) {
        problem(
            path,
            "${" + m.group(1) + "}",
            "set the environment variable "
                + m.group(1)
                + " or write ${"
                + m.group(1)
                + ":-default}");
        ok = false;
        continue;
      }
      out.append(value);
    }
    out.append(text.substring(last));
    return ok ? out.toString() : null;
  }

  private String describe(JsonNode n) {
    if (n.isObject()) {
      return "a mapping";
    }
    if (n.isArray()) {
      return "a list";
    }
    return "\"" + n.asText() + "\"";
  }

  private void problem(String path, String value, String fix) {
    String masked = value;
    String last = path.substring(path.lastIndexOf('.') + 1);
    if (SECRET_KEYS.contains(last)
        || path.startsWith("kafka.properties.") && path.contains("jaas")) {
      masked = "****";
    }
    problems.add(path + ": " + masked + "; " + fix);
  }

  private static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }
}
