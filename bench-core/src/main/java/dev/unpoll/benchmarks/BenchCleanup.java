package dev.unpoll.benchmarks;

import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Servers;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * What {@code unpoll bench} creates on the user's own PostgreSQL and Kafka, checked before and
 * removed after: nothing of the user's is reused, changed or dropped. {@link #preflight} refuses
 * (creating nothing) when a schema the bench needs exists, when an aborted run left something
 * behind (with the statements that remove it), or when the user may not create what the run needs;
 * {@link #run} removes the run's slot first (a slot left behind keeps WAL on the server forever),
 * then its publication, the relay's tables and heartbeat table, the schemas it created, its topics
 * and consumer group.
 */
final class BenchCleanup {
  private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);
  private static final String DROP_HEARTBEAT =
      "DROP TABLE IF EXISTS " + RelayNames.HEARTBEAT_TABLE.display() + ";";

  private final Servers target;
  private final BenchNames names;
  private final Admin admin;
  private final List<String> createdSchemas = new ArrayList<>();
  private boolean topicCreated;
  private boolean done;

  private BenchCleanup(Servers target, BenchNames names, Admin admin) {
    this.target = target;
    this.names = names;
    this.admin = admin;
  }

  /** A connection as the bench's user, named {@code unpoll-bench} in pg_stat_activity. */
  static Connection connect(Servers target) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", target.user());
    if (target.password() != null) {
      p.setProperty("password", target.password());
    }
    p.setProperty("ApplicationName", "unpoll-bench");
    p.setProperty("connectTimeout", "30");
    return DriverManager.getConnection(target.jdbcUrl(), p);
  }

  /** An admin client with the target's Kafka client properties (TLS, SASL, ...). */
  static Admin admin(Servers target) {
    Map<String, Object> config = new HashMap<>(target.kafkaProperties());
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, target.kafkaBootstrap());
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) KAFKA_TIMEOUT.toMillis());
    return Admin.create(config);
  }

  /** Creates {@code topic}, one partition, the cluster's default replication factor. */
  static void createTopic(Admin admin, String topic) {
    try {
      admin
          .createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty())))
          .all()
          .get(KAFKA_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot create topic " + topic + ": " + e.getCause(), e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + topic + ": " + e, e);
    }
  }

  /**
   * Checks, before anything is created, that the run can create what it needs and that none of it
   * exists; throws {@link BenchPreflightException} with every problem otherwise.
   */
  static BenchCleanup preflight(Servers target, BenchNames names) throws SQLException {
    List<String> problems = new ArrayList<>();
    boolean heartbeat;
    String db = target.database();
    try (Connection c = connect(target)) {
      String user = TableName.quote(target.user());
      if (!test(c, "SELECT has_database_privilege(current_database(), 'CREATE')")) {
        problems.add(
            "unpoll bench needs CREATE on the database "
                + db
                + " (for its schemas shop and shipping and its publication): GRANT CREATE ON"
                + " DATABASE "
                + TableName.quote(text(c, "SELECT current_database()"))
                + " TO "
                + user
                + ";");
      }
      Map<String, String> schemas = new HashMap<>();
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT nspname, obj_description(oid, 'pg_namespace') FROM pg_namespace"
                  + " WHERE nspname = ANY (?)")) {
        ps.setArray(1, c.createArrayOf("text", BenchNames.SCHEMAS.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            schemas.put(rs.getString(1), rs.getString(2) == null ? "" : rs.getString(2));
          }
        }
      }
      heartbeat = test(c, "SELECT to_regclass(?) IS NOT NULL", RelayNames.HEARTBEAT_TABLE.quoted());
      // whose heartbeat table: a run killed before its cleanup leaves its own behind
      List<String> leftovers = leftovers(c, schemas, heartbeat ? heartbeatSlots(c) : null);
      boolean heartbeatIsLeftover = leftovers.contains(DROP_HEARTBEAT);
      if (!leftovers.isEmpty()) {
        problems.add(
            "an aborted unpoll bench run (or one still running) left its objects in "
                + db
                + "; once no bench runs there, remove them with: "
                + String.join(" ", leftovers));
      }
      for (String schema : BenchNames.SCHEMAS) {
        String comment = schemas.get(schema);
        if (comment != null && !BenchNames.MARKER.matcher(comment).matches()) {
          problems.add(
              "unpoll bench creates its own schemas shop and shipping and never touches what it"
                  + " did not create, and "
                  + db
                  + " already has a schema "
                  + schema
                  + ": run it on a scratch database (CREATE DATABASE unpoll_bench; then --db with"
                  + " /unpoll_bench)");
        }
      }
      if (heartbeatIsLeftover) {
        // reported above with the aborted run's other objects
      } else if (heartbeat) {
        // a relay of the user's runs on this database: its table is not the bench's to write to
        problems.add(
            "unpoll bench's relay needs its own heartbeat table "
                + RelayNames.HEARTBEAT_TABLE.dotted()
                + ", and "
                + db
                + " already has one (a relay of yours captures this database): run it on a"
                + " scratch database (CREATE DATABASE unpoll_bench; then --db with /unpoll_bench)");
      } else if (!test(c, "SELECT has_schema_privilege('public', 'CREATE')")) {
        problems.add(
            "unpoll bench's relay creates its heartbeat table "
                + RelayNames.HEARTBEAT_TABLE.dotted()
                + " (dropped again at the end), and "
                + user
                + " may not create in schema public: GRANT CREATE ON SCHEMA public TO "
                + user
                + ";");
      }
      String current = text(c, "SELECT current_schema()");
      if (current == null || !test(c, "SELECT has_schema_privilege(current_schema(), 'CREATE')")) {
        problems.add(
            "unpoll bench's relay keeps its offsets in the connection's first schema on the"
                + " search_path, and "
                + user
                + " may create in none ("
                + (current == null ? "none exists" : "not in " + current)
                + "): GRANT CREATE ON SCHEMA public TO "
                + user
                + ";");
      }
    }
    Admin admin = admin(target);
    try {
      admin
          .createTopics(
              List.of(new NewTopic(names.topic(), Optional.of(1), Optional.empty())),
              new CreateTopicsOptions().validateOnly(true))
          .all()
          .get(KAFKA_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      problems.add(
          "Kafka at "
              + target.kafkaBootstrap()
              + " does not let unpoll bench create its topic "
              + names.topic()
              + " ("
              + cause
              + "): check --kafka and kafka.properties (TLS, SASL), and allow this client to"
              + " create topics (ACL CREATE on the cluster or the topic prefix unpoll-bench-)");
    }
    if (!problems.isEmpty()) {
      admin.close();
      throw new BenchPreflightException(problems);
    }
    return new BenchCleanup(target, names, admin);
  }

  /** The statements that remove what aborted bench runs left, or none. */
  /**
   * The slots named in the heartbeat table, or null when this user may not read it (then it is not
   * the bench's: a run creates it as this user).
   */
  private static List<String> heartbeatSlots(Connection c) throws SQLException {
    if (!test(c, "SELECT has_table_privilege(?, 'SELECT')", RelayNames.HEARTBEAT_TABLE.quoted())) {
      return null;
    }
    List<String> slots = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT slot FROM " + RelayNames.HEARTBEAT_TABLE.quoted())) {
      while (rs.next()) {
        slots.add(rs.getString(1));
      }
    }
    return slots;
  }

  /**
   * The statements that remove what aborted bench runs left, or none; {@code heartbeatSlots}: the
   * slots the heartbeat table names (a run's beat names its own, so it counts as a trace of it),
   * null when there is no such table or this user may not read it. The table itself is dropped
   * ({@link #DROP_HEARTBEAT}) when a run left other traces and no row names another relay's slot.
   */
  private static List<String> leftovers(
      Connection c, Map<String, String> schemas, List<String> heartbeatSlots) throws SQLException {
    Set<String> ids = new TreeSet<>();
    if (heartbeatSlots != null) {
      for (String slot : heartbeatSlots) {
        Matcher m = BenchNames.RELAY_NAME.matcher(slot);
        if (m.matches()) {
          ids.add(m.group(1));
        }
      }
    }
    Map<String, Boolean> slots = new HashMap<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT slot_name, active FROM pg_replication_slots"
                    + " WHERE database = current_database()")) {
      while (rs.next()) {
        Matcher m = BenchNames.RELAY_NAME.matcher(rs.getString(1));
        if (m.matches()) {
          ids.add(m.group(1));
          slots.put(rs.getString(1), rs.getBoolean(2));
        }
      }
    }
    Set<String> publications = new TreeSet<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pubname FROM pg_publication")) {
      while (rs.next()) {
        Matcher m = BenchNames.RELAY_NAME.matcher(rs.getString(1));
        if (m.matches()) {
          ids.add(m.group(1));
          publications.add(rs.getString(1));
        }
      }
    }
    List<String> marked = new ArrayList<>();
    for (String schema : BenchNames.SCHEMAS) {
      String comment = schemas.get(schema);
      Matcher m = comment == null ? null : BenchNames.MARKER.matcher(comment);
      if (m != null && m.matches()) {
        ids.add(m.group(1));
        marked.add(schema);
      }
    }
    List<String> out = new ArrayList<>();
    for (String id : ids) {
      BenchNames n = BenchNames.of(id);
      if (slots.containsKey(n.slot())) {
        if (slots.get(n.slot())) {
          out.add(
              "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
                  + " WHERE slot_name = '"
                  + n.slot()
                  + "';");
        }
        out.add("SELECT pg_drop_replication_slot('" + n.slot() + "');");
      }
      if (publications.contains(n.publication())) {
        out.add("DROP PUBLICATION " + TableName.quote(n.publication()) + ";");
      }
      out.add(
          "DROP TABLE IF EXISTS "
              + RelayNames.offsetsTable(n.slot())
              + ", "
              + RelayNames.backlogTable(n.slot())
              + ";");
    }
    for (String schema : marked) {
      out.add("DROP SCHEMA " + TableName.quote(schema) + " CASCADE;");
    }
    if (!out.isEmpty()
        && heartbeatSlots != null
        && heartbeatSlots.stream().allMatch(h -> BenchNames.RELAY_NAME.matcher(h).matches())) {
      out.add(DROP_HEARTBEAT);
    }
    if (!out.isEmpty()) {
      for (String id : ids) {
        BenchNames n = BenchNames.of(id);
        out.add(
            "and on Kafka, if present: topics "
                + n.topic()
                + " and "
                + n.deadLetterTopic()
                + ", consumer group "
                + n.group());
      }
    }
    return out;
  }

  /** Creates the samples' schemas, marked with the run's comment, in one transaction. */
  void createSchemas() throws SQLException {
    try (Connection c = connect(target)) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        for (String schema : BenchNames.SCHEMAS) {
          s.execute("CREATE SCHEMA " + TableName.quote(schema));
          s.execute(
              "COMMENT ON SCHEMA " + TableName.quote(schema) + " IS '" + names.marker() + "'");
        }
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    }
    createdSchemas.addAll(BenchNames.SCHEMAS);
  }

  /** Creates the run's topic. */
  void createTopic() {
    createTopic(admin, names.topic());
    topicCreated = true;
  }

  Admin admin() {
    return admin;
  }

  /**
   * Removes what the run created (once; the relay must be closed or gone): returns what could not
   * be removed, each with the statement that removes it; empty when nothing is left.
   */
  synchronized List<String> run(Duration timeout) {
    if (done) {
      return List.of();
    }
    done = true;
    Duration wait = timeout == null ? Duration.ofSeconds(60) : timeout;
    List<String> left = new ArrayList<>();
    try {
      dropSlot(wait);
    } catch (Exception e) {
      left.add(
          "replication slot "
              + names.slot()
              + " ("
              + e.getMessage()
              + "): SELECT pg_drop_replication_slot('"
              + names.slot()
              + "');");
    }
    sql(left, "DROP PUBLICATION IF EXISTS " + TableName.quote(names.publication()));
    sql(left, "DROP TABLE IF EXISTS " + RelayNames.offsetsTable(names.slot()));
    sql(left, "DROP TABLE IF EXISTS " + RelayNames.backlogTable(names.slot()));
    // preflight refused to run where the table existed: the run's relay created it
    sql(left, "DROP TABLE IF EXISTS " + RelayNames.HEARTBEAT_TABLE.quoted());
    for (String schema : createdSchemas) {
      sql(left, "DROP SCHEMA IF EXISTS " + TableName.quote(schema) + " CASCADE");
    }
    List<String> topics = new ArrayList<>();
    if (topicCreated) {
      topics.add(names.topic());
    }
    topics.add(names.deadLetterTopic()); // only the run's consumer could have created it
    for (String topic : topics) {
      try {
        admin.deleteTopics(List.of(topic)).all().get(KAFKA_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          left.add("topic " + topic + " (" + e.getCause() + ")");
        }
      } catch (Exception e) {
        left.add("topic " + topic + " (" + e + ")");
      }
    }
    deleteGroup(left, wait);
    admin.close(Duration.ofSeconds(5));
    return left;
  }

  private void dropSlot(Duration timeout) throws SQLException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try (Connection c = connect(target);
          PreparedStatement terminate =
              c.prepareStatement(
                  "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
                      + " WHERE slot_name = ? AND active_pid IS NOT NULL");
          PreparedStatement drop =
              c.prepareStatement(
                  "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                      + " WHERE slot_name = ?")) {
        terminate.setString(1, names.slot());
        terminate.execute();
        drop.setString(1, names.slot());
        drop.execute();
        return;
      } catch (SQLException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200); // the terminated walsender is going away
      }
    }
  }

  private void deleteGroup(List<String> left, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        admin
            .deleteConsumerGroups(List.of(names.group()))
            .all()
            .get(KAFKA_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (e.getCause() instanceof GroupIdNotFoundException) {
          return;
        }
        if (System.nanoTime() > deadline) {
          left.add("consumer group " + names.group() + " (" + e.getCause() + ")");
          return;
        }
      } catch (Exception e) {
        left.add("consumer group " + names.group() + " (" + e + ")");
        return;
      }
      try {
        Thread.sleep(200); // the group's last member is leaving
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        left.add("consumer group " + names.group() + " (interrupted)");
        return;
      }
    }
  }

  private void sql(List<String> left, String statement) {
    try (Connection c = connect(target);
        Statement s = c.createStatement()) {
      s.execute(statement);
    } catch (SQLException e) {
      left.add(statement + "; (" + e.getMessage() + ")");
    }
  }

  private static boolean test(Connection c, String sql, String... params) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setString(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  private static String text(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
