package dev.unpoll.migration.internal;

import dev.unpoll.contract.Headers;
import dev.unpoll.contract.KeyCodec;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Progress;
import dev.unpoll.migration.Reconciliation;
import dev.unpoll.migration.TransitionOptions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The reconciliation behind {@code unpoll verify} and the gates: the table's rows in a window
 * against the events in the topic (by {@code ce_id}), and what the poller handled against what the
 * consumer recorded ({@code unpoll_processed}, {@code unpoll_shadow_ledger}).
 */
public final class Verifier {
  /** How many keys of each kind a report lists. */
  public static final int SAMPLE_KEYS = 20;

  private Verifier() {}

  /** What to reconcile. */
  public record Request(
      TableInfo info,
      Mapping mapping,
      Instant from,
      Duration settle,
      String consumerGroup,
      Phase phase) {}

  /**
   * {@code unpoll verify} of {@code t}: the mapping resolved as for the phase commands, the
   * consumer group given or else the one recorded at shadow, and the rows created from {@code
   * options.window()} ago (never before capture) until {@code options.settle()} ago.
   */
  public static Reconciliation verify(
      Connection c, Settings s, TableName t, TransitionOptions options, Progress progress)
      throws SQLException {
    Db.requireTable(c, t);
    Optional<ControlSchema.State> state = ControlSchema.state(c, t, false);
    TableInfo info = MappingResolver.tableInfo(c, s, state, t);
    Mapping mapping = MappingResolver.resolve(s, state, info, options.topic());
    String group =
        options.consumerGroup() != null
            ? options.consumerGroup()
            : MappingResolver.recordedGroup(state).orElse(null);
    Phase phase = state.map(ControlSchema.State::phase).orElse(null);
    Instant from = windowStart(c, t, options.window());
    return run(c, s, new Request(info, mapping, from, options.settle(), group, phase), progress);
  }

  /** {@code window} before the database's now, but never before {@code t} entered capturing. */
  public static Instant windowStart(Connection c, TableName t, Duration window)
      throws SQLException {
    Instant from = Db.now(c).minus(window);
    Optional<Instant> captured = ControlSchema.entered(c, t, Phase.CAPTURING);
    return captured.isPresent() && captured.get().isAfter(from) ? captured.get() : from;
  }

  /** Runs the reconciliation. */
  public static Reconciliation run(Connection c, Settings s, Request req, Progress progress)
      throws SQLException {
    return collect(c, s, req, progress).reconciliation(req.info().table());
  }

  private static VerifyReport collect(Connection c, Settings s, Request req, Progress progress)
      throws SQLException {
    TableInfo info = req.info();
    TableName t = info.table();
    Mapping m = req.mapping();
    List<String> key = m.keyOr(info.primaryKey());
    if (key.isEmpty()) {
      throw new MigrationException(
          t.display()
              + " has no primary key and its mapping names no key columns: verify"
              + " cannot tell which event belongs to which row");
    }
    Instant to = Db.now(c).minus(req.settle());
    // the mapping's columns first (written once, in unpoll.yaml), else what the names suggest
    String created = m.createdAt(info.roles().created()).orElse(null);
    String processed = m.processedAt(info.roles().processed()).orElse(null);
    String statusCol = m.statusColumn();

    StringBuilder sql = new StringBuilder("SELECT ");
    for (String k : key) {
      sql.append(Names.quote(k)).append(", ");
    }
    sql.append(created == null ? "NULL::timestamptz" : Names.quote(created) + "::timestamptz")
        .append(", ")
        .append(statusCol == null ? "NULL::text" : Names.quote(statusCol) + "::text")
        .append(", ")
        .append(processed == null ? "NULL::timestamptz" : Names.quote(processed) + "::timestamptz")
        .append(" FROM ")
        .append(t.quoted());
    if (created != null) {
      sql.append(" WHERE ")
          .append(Names.quote(created))
          .append(" >= ? AND ")
          .append(Names.quote(created))
          .append(" < ?");
    }
    Map<String, Row> rows = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
      if (created != null) {
        ps.setTimestamp(1, Timestamp.from(req.from() == null ? Instant.EPOCH : req.from()));
        ps.setTimestamp(2, Timestamp.from(to));
      }
      ps.setFetchSize(5000);
      c.setAutoCommit(false);
      try (ResultSet rs = ps.executeQuery()) {
        KeyCodec.JdbcKeys keys = KeyCodec.jdbcKeys(rs.getMetaData(), key.size());
        while (rs.next()) {
          String ceId = t.dotted() + ":" + keys.key(rs);
          Timestamp cr = rs.getTimestamp(key.size() + 1);
          Timestamp pr = rs.getTimestamp(key.size() + 3);
          rows.put(
              ceId,
              new Row(
                  cr == null ? null : cr.toInstant(),
                  rs.getString(key.size() + 2),
                  pr == null ? null : pr.toInstant()));
          progress.update("reading " + t.display(), rows.size(), -1);
        }
      } finally {
        c.commit();
        c.setAutoCommit(true);
      }
    }
    progress.done();

    String prefix = t.dotted() + ":";
    Map<String, Integer> eventCount = new HashMap<>();
    Map<String, Instant> eventTime = new HashMap<>();
    long[] tableEvents = {0};
    // Events of rows created in the window cannot be older than the window: read from there.
    long read =
        Kafka.readSince(
            s,
            m.topic(),
            created == null ? null : req.from(),
            r -> {
              String id = Kafka.header(r, Headers.ID);
              if (id != null && id.startsWith(prefix)) {
                tableEvents[0]++;
                eventCount.merge(id, 1, Integer::sum);
                String time = Kafka.header(r, Headers.TIME);
                if (time != null && !eventTime.containsKey(id)) {
                  try {
                    eventTime.put(id, Instant.parse(time));
                  } catch (DateTimeParseException ignored) {
                    // a malformed ce_time only costs the latency figure of this event
                  }
                }
              }
            },
            progress);

    VerifyReport rep = new VerifyReport();
    rep.table = t.display();
    rep.topic = m.topic();
    rep.group = req.consumerGroup();
    rep.phase = req.phase();
    rep.from = created == null ? null : (req.from() == null ? Instant.EPOCH : req.from());
    rep.to = created == null ? null : to;
    rep.rows = rows.size();
    rep.topicEvents = tableEvents[0];
    rep.topicFound = read >= 0;
    for (Map.Entry<String, Row> e : rows.entrySet()) {
      int n = eventCount.getOrDefault(e.getKey(), 0);
      if (n == 0) {
        rep.missingEvents.add(e.getKey());
      } else if (n > 1) {
        rep.duplicatedEvents.add(e.getKey());
      }
    }

    List<String> done = m.done();
    // Rows a poller still has to finish: pending, or held in progress. Once the poller is gone
    // nobody finishes an in-progress row, whenever it was created.
    List<String> unfinished = new ArrayList<>(m.pending());
    unfinished.addAll(m.inProgress());
    Map<String, Instant> consumerProcessed = new HashMap<>();
    Map<String, Long> processedCount = new HashMap<>();
    Map<String, Instant[]> ledger = new HashMap<>();
    rep.processedTable = exists(c, "unpoll_processed");
    rep.ledgerTable = exists(c, "unpoll_shadow_ledger");
    if (req.consumerGroup() != null) {
      if (rep.processedTable) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT idempotency_key, count(*), min(processed_at) FROM unpoll_processed"
                    + " WHERE consumer_group = ? AND left(idempotency_key, ?) = ?"
                    + " GROUP BY idempotency_key")) {
          ps.setString(1, req.consumerGroup());
          ps.setInt(2, prefix.length());
          ps.setString(3, prefix);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              processedCount.put(rs.getString(1), rs.getLong(2));
              Timestamp ts = rs.getTimestamp(3);
              consumerProcessed.put(rs.getString(1), ts == null ? null : ts.toInstant());
            }
          }
        }
      }
      if (rep.ledgerTable) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT idempotency_key, min(received_at), min(event_time)"
                    + " FROM unpoll_shadow_ledger"
                    + " WHERE consumer_group = ? AND left(idempotency_key, ?) = ?"
                    + " GROUP BY idempotency_key")) {
          ps.setString(1, req.consumerGroup());
          ps.setInt(2, prefix.length());
          ps.setString(3, prefix);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              Timestamp rcv = rs.getTimestamp(2);
              Timestamp evt = rs.getTimestamp(3);
              ledger.put(
                  rs.getString(1),
                  new Instant[] {
                    rcv == null ? null : rcv.toInstant(), evt == null ? null : evt.toInstant()
                  });
            }
          }
        }
      }
    }
    List<Long> pollerLatency = new ArrayList<>();
    List<Long> eventLatency = new ArrayList<>();
    for (Map.Entry<String, Row> e : rows.entrySet()) {
      String id = e.getKey();
      Row row = e.getValue();
      boolean isDone = row.status != null && done.contains(row.status);
      boolean byConsumer = consumerProcessed.containsKey(id);
      if (isDone) {
        rep.done++;
      }
      if (processedCount.getOrDefault(id, 0L) > 1) {
        rep.doubleHandled.add(id);
      }
      if (byConsumer) {
        rep.consumerHandled++;
        Instant at = consumerProcessed.get(id);
        Instant commit = eventTime.get(id);
        if (at != null && commit != null) {
          eventLatency.add(Duration.between(commit, at).toMillis());
        }
      } else if (isDone) {
        rep.pollerHandled++;
        if (row.created != null && row.processed != null) {
          pollerLatency.add(Duration.between(row.created, row.processed).toMillis());
        }
        if (req.consumerGroup() != null && !ledger.containsKey(id)) {
          rep.missingInLedger.add(id);
        }
      } else if (statusCol != null && !isDone) {
        rep.unhandled.add(id);
      }
      Instant[] l = ledger.get(id);
      if (l != null) {
        rep.ledgerRecorded++;
        if (!byConsumer && l[0] != null && l[1] != null) {
          eventLatency.add(Duration.between(l[1], l[0]).toMillis());
        }
      }
    }
    rep.pollerLatency = Percentiles.of(pollerLatency);
    rep.eventLatency = Percentiles.of(eventLatency);
    if (statusCol != null && (!unfinished.isEmpty() || !done.isEmpty())) {
      // The backlog is every row not in a done state: pending or in progress anywhere older than
      // the settle time, and in the window also failed or any other value, since a row the poller
      // holds in an intermediate state is handled by nobody once the poller is gone. Failed rows
      // from before the window are the poller's history, not backlog.
      String st = Names.quote(statusCol) + "::text";
      String notDone =
          done.isEmpty() ? "false" : "(" + st + " IS NULL OR NOT (" + st + " = ANY (?)))";
      String isUnfinished = unfinished.isEmpty() ? "false" : st + " = ANY (?)";
      StringBuilder q = new StringBuilder("SELECT ");
      for (String k : key) {
        q.append(Names.quote(k)).append(", ");
      }
      q.append("count(*) OVER () FROM ").append(t.quoted()).append(" WHERE ");
      if (created != null) {
        String cr = Names.quote(created);
        q.append(cr)
            .append(" < ? AND (")
            .append(isUnfinished)
            .append(" OR (")
            .append(cr)
            .append(" >= ? AND ")
            .append(notDone)
            .append("))");
      } else {
        q.append(isUnfinished).append(" OR ").append(notDone);
      }
      q.append(" LIMIT ").append(SAMPLE_KEYS);
      try (PreparedStatement ps = c.prepareStatement(q.toString())) {
        int i = 1;
        if (created != null) {
          ps.setTimestamp(i++, Timestamp.from(to));
        }
        if (!unfinished.isEmpty()) {
          ps.setArray(i++, c.createArrayOf("text", unfinished.toArray()));
        }
        if (created != null) {
          ps.setTimestamp(i++, Timestamp.from(req.from() == null ? Instant.EPOCH : req.from()));
        }
        if (!done.isEmpty()) {
          ps.setArray(i++, c.createArrayOf("text", done.toArray()));
        }
        rep.backlog = 0;
        try (ResultSet rs = ps.executeQuery()) {
          KeyCodec.JdbcKeys keys = KeyCodec.jdbcKeys(rs.getMetaData(), key.size());
          while (rs.next()) {
            rep.backlogKeys.add(t.dotted() + ":" + keys.key(rs));
            rep.backlog = rs.getLong(key.size() + 1);
          }
        }
      }
    } else {
      rep.backlog = -1;
    }
    return rep;
  }

  private static boolean exists(Connection c, String table) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private record Row(Instant created, String status, Instant processed) {}

  /** Latency percentiles in milliseconds (nearest rank). */
  public record Percentiles(int count, Long p50, Long p95, Long p99) {
    static Percentiles of(Collection<Long> values) {
      List<Long> sorted = new ArrayList<>(values);
      sorted.sort(null);
      return new Percentiles(sorted.size(), at(sorted, 50), at(sorted, 95), at(sorted, 99));
    }

    private static Long at(List<Long> sorted, int p) {
      if (sorted.isEmpty()) {
        return null;
      }
      int rank = (int) Math.ceil(p / 100.0 * sorted.size());
      return sorted.get(Math.max(0, rank - 1));
    }
  }
}
