package dev.unpoll.migration;

import dev.unpoll.contract.TableName;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code unpoll analyze} finds for one legacy table: its shape, its statistics, the roles of
 * its columns in the polling integration and the readiness verdict for capture.
 *
 * @param table the table
 * @param columns the columns, in order
 * @param primaryKey the primary key columns (empty: none)
 * @param replicaIdentity default, full, index or nothing
 * @param owner the table's owner
 * @param rows the number of rows (exact when {@code rowsExact}, else the planner's estimate)
 * @param rowsExact whether {@code rows} was counted
 * @param totalBytes the table's size with indexes and TOAST
 * @param activity statistics since the last reset ({@code inserts}, {@code updates}, {@code
 *     deletes}, {@code deadTuples}, {@code idxScans}, {@code seqScans}), in that order; empty when
 *     the server has none
 * @param roles the inferred roles of the columns
 * @param verdict the readiness verdict
 * @param notes what led to the verdict, the blocking problem first
 * @param motion what observing the rows over a window showed, when they were observed ({@code
 *     unpoll analyze --observe})
 */
public record TableAnalysis(
    TableName table,
    List<Column> columns,
    List<String> primaryKey,
    String replicaIdentity,
    String owner,
    long rows,
    boolean rowsExact,
    long totalBytes,
    Map<String, Long> activity,
    Roles roles,
    Verdict verdict,
    List<String> notes,
    Optional<Motion> motion) {

  /** Copies the collections (the activity keeps its order). */
  public TableAnalysis {
    columns = List.copyOf(columns);
    primaryKey = List.copyOf(primaryKey);
    activity = Collections.unmodifiableMap(new LinkedHashMap<>(activity));
    notes = List.copyOf(notes);
    motion = motion == null ? Optional.empty() : motion;
  }

  /** An analysis without observation. */
  public TableAnalysis(
      TableName table,
      List<Column> columns,
      List<String> primaryKey,
      String replicaIdentity,
      String owner,
      long rows,
      boolean rowsExact,
      long totalBytes,
      Map<String, Long> activity,
      Roles roles,
      Verdict verdict,
      List<String> notes) {
    this(
        table,
        columns,
        primaryKey,
        replicaIdentity,
        owner,
        rows,
        rowsExact,
        totalBytes,
        activity,
        roles,
        verdict,
        notes,
        Optional.empty());
  }

  /**
   * How the rows moved while they were observed: samples of the watched rows' values, compared
   * sample to sample. The inferences drawn from it, with the figures they rest on, are in the
   * notes.
   *
   * @param samples the number of samples taken
   * @param elapsedMillis the time from the first sample to the last
   * @param rowsWatched the distinct rows read over all samples
   * @param column the column whose changes were counted as the status column's (empty: no column
   *     moved)
   * @param inserted rows that appeared during the window, per the status value they had when first
   *     seen
   * @param moves the status changes seen between two samples of the same row
   * @param deleted watched rows that disappeared, per the status value they last had
   * @param changedWithStatus per other column, the number of status changes it changed with
   */
  public record Motion(
      int samples,
      long elapsedMillis,
      int rowsWatched,
      Optional<String> column,
      Map<String, Long> inserted,
      List<Move> moves,
      Map<String, Long> deleted,
      Map<String, Long> changedWithStatus) {
    /** Copies the collections (the maps keep their order). */
    public Motion {
      inserted = Collections.unmodifiableMap(new LinkedHashMap<>(inserted));
      moves = List.copyOf(moves);
      deleted = Collections.unmodifiableMap(new LinkedHashMap<>(deleted));
      changedWithStatus = Collections.unmodifiableMap(new LinkedHashMap<>(changedWithStatus));
    }

    /** Whether any row moved, appeared or disappeared. */
    public boolean moved() {
      return !inserted.isEmpty() || !moves.isEmpty() || !deleted.isEmpty();
    }

    /**
     * Rows whose status went from one value to another between two samples.
     *
     * @param from the value before
     * @param to the value after
     * @param rows how many times it was seen
     */
    public record Move(String from, String to, long rows) {}
  }

  /**
   * One column.
   *
   * @param name the name
   * @param type the type as PostgreSQL formats it
   * @param nullable whether it admits NULL
   * @param defaultValue its default expression, or null
   */
  public record Column(String name, String type, boolean nullable, String defaultValue) {}

  /**
   * The poller's status column and its values.
   *
   * @param column the column
   * @param pending values of rows waiting for the poller
   * @param done values of handled rows
   * @param inProgress values the poller sets while it works on a row
   * @param failed values the poller sets after a failure
   * @param counts rows per value, most frequent first
   */
  public record StatusColumn(
      String column,
      List<String> pending,
      List<String> done,
      List<String> inProgress,
      List<String> failed,
      Map<String, Long> counts) {
    /** Copies the collections (the counts keep their order). */
    public StatusColumn {
      pending = Collections.unmodifiableList(new ArrayList<>(pending));
      done = Collections.unmodifiableList(new ArrayList<>(done));
      inProgress = Collections.unmodifiableList(new ArrayList<>(inProgress));
      failed = Collections.unmodifiableList(new ArrayList<>(failed));
      counts = Collections.unmodifiableMap(new LinkedHashMap<>(counts));
    }
  }

  /**
   * The inferred roles of the columns.
   *
   * @param key the key columns of the idempotency key
   * @param status the poller's status column, if found
   * @param payload the payload column, if any
   * @param bookkeeping columns whose updates emit nothing
   * @param created the creation-time column, if any
   * @param processed the column the poller stamps when done, if any
   */
  public record Roles(
      List<String> key,
      Optional<StatusColumn> status,
      Optional<String> payload,
      List<String> bookkeeping,
      Optional<String> created,
      Optional<String> processed) {
    /** Copies the lists. */
    public Roles {
      key = List.copyOf(key);
      bookkeeping = List.copyOf(bookkeeping);
    }
  }

  /** The readiness verdict for capture. */
  public enum Verdict {
    /** Ready for capture. */
    READY,
    /** Ready, with warnings in the notes. */
    READY_WITH_WARNINGS,
    /** Not ready: the first note says why. */
    NOT_READY;

    /** The lower-case, dash-separated form used in output. */
    public String id() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  /** Whether the verdict allows capture. */
  public boolean ready() {
    return verdict != Verdict.NOT_READY;
  }
}
