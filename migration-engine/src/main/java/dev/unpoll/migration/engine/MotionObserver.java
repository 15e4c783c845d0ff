package dev.unpoll.migration.engine;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.internal.Analyzer;
import dev.unpoll.migration.internal.Db;
import dev.unpoll.migration.internal.RowMotion;
import dev.unpoll.migration.internal.TableInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Watches how a table's rows move while its poller works, to learn the status roles the names and
 * the statements do not tell ({@code unpoll analyze --observe}). Take samples, let time pass (or
 * run the poller) between them, then {@link #infer}: the analysis, with the values rows appear with
 * (pending), reach and leave (in progress), reach and stay in (done) or reach rarely or leave back
 * to pending (failed), and the columns that change with the status (bookkeeping), each with the
 * figures it rests on in the notes.
 *
 * <p>A sample is one read-only statement, bounded by {@link #SAMPLE_TIMEOUT}, that reads at most
 * {@value dev.unpoll.migration.internal.RowMotion#ROWS_PER_PART} newest rows by primary key, at
 * most as many rows whose status holds a value rows still leave (when an index starts with the
 * status column), and the rows already watched (at most {@value
 * dev.unpoll.migration.internal.RowMotion#MAX_WATCHED}), never the whole table.
 *
 * <pre>{@code
 * try (MotionObserver o = migrations.observe(table)) {
 *   o.sample();
 *   // ... the poller works ...
 *   o.sample();
 *   TablePlan plan = o.infer(null);
 * }
 * }</pre>
 */
public final class MotionObserver implements AutoCloseable {
  /** The time between two samples of {@code unpoll analyze --observe}, in seconds. */
  public static final int SAMPLE_INTERVAL_SECONDS = RowMotion.SAMPLE_INTERVAL_SECONDS;

  /** The time between two samples of {@code unpoll analyze --observe}. */
  public static final Duration SAMPLE_INTERVAL = Duration.ofSeconds(SAMPLE_INTERVAL_SECONDS);

  /** The most rows one part of a sample reads (the newest; those in a status rows leave). */
  public static final int ROWS_PER_PART = RowMotion.ROWS_PER_PART;

  /** The most rows watched by key from sample to sample. */
  public static final int MAX_WATCHED = RowMotion.MAX_WATCHED;

  /** The longest one sample may take. */
  public static final Duration SAMPLE_TIMEOUT = RowMotion.SAMPLE_TIMEOUT;

  private final Connection connection;
  private final TableName table;
  private final RowMotion motion;

  private MotionObserver(Connection connection, TableName table, RowMotion motion) {
    this.connection = connection;
    this.table = table;
    this.motion = motion;
  }

  /** Opens an observer on its own connection; reads the catalog only (no lock on the table). */
  static MotionObserver open(Connection c, TableName table) {
    try {
      Db.requireTable(c, table);
      List<TableInfo.Column> columns = Analyzer.columns(c, table, false);
      List<String> key = Analyzer.primaryKey(c, table);
      if (key.isEmpty()) {
        throw MigrationException.checkFailed(
            table.display()
                + " has no primary key: its rows cannot be observed (run analyze without"
                + " --observe for the options)");
      }
      RowMotion.prepare(c);
      return new MotionObserver(c, table, new RowMotion(table, columns, key));
    } catch (SQLException e) {
      throw Db.failure("cannot analyze " + table.display(), e);
    }
  }

  /** The table. */
  public TableName table() {
    return table;
  }

  /** The number of samples taken. */
  public int samples() {
    return motion.samples();
  }

  /**
   * Takes a sample and compares it with the last; returns the rows it read. After the first, the
   * table is analyzed once so that later samples also read the rows in a status rows still leave.
   */
  public int sample() {
    try {
      int read = motion.sample(connection);
      if (motion.samples() == 1) {
        TableInfo info = Analyzer.analyze(connection, table);
        info.roles()
            .status()
            .ifPresent(
                st -> {
                  List<String> leaving = new ArrayList<>(st.counts().keySet());
                  if (!st.done().isEmpty()) {
                    leaving.removeAll(st.done());
                  } else if (!leaving.isEmpty()) {
                    leaving.remove(0); // the most frequent value: most rows are done
                  }
                  Optional<TableInfo.Column> col = info.column(st.column());
                  if (col.isPresent() && leadsAnIndex(st.column())) {
                    motion.alsoWatch(col.get(), leaving);
                  }
                });
      }
      return read;
    } catch (SQLException e) {
      throw Db.failure("cannot analyze " + table.display(), e);
    }
  }

  /**
   * Whether an index of the table starts with {@code column}: only then are the rows in a status
   * rows leave found without scanning the table.
   */
  private boolean leadsAnIndex(String column) {
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]"
                + " WHERE n.nspname = ? AND c.relname = ? AND a.attname = ? AND i.indpred IS NULL")) {
      ps.setString(1, table.schema());
      ps.setString(2, table.table());
      ps.setString(3, column);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      throw Db.failure("cannot analyze " + table.display(), e);
    }
  }

  /**
   * The analysis with what the samples showed (at least two), and its proposed mapping to {@code
   * topic} (null: the default topic) when ready.
   */
  public TablePlan infer(String topic) {
    if (motion.samples() < 2) {
      throw new IllegalStateException("take at least two samples before infer()");
    }
    return TablePlan.of(Analyzer.analyze(connection, table, motion), topic);
  }

  /** Closes the connection. */
  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw Db.failure("cannot analyze " + table.display(), e);
    }
  }
}
