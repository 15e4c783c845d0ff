package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.TableAnalysis;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@link Analyzer} learned about one table: its shape, its statistics and the roles of its
 * columns in the polling integration.
 */
public record TableInfo(
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
    Optional<TableAnalysis.Motion> motion) {

  /** One column. */
  public record Column(
      String name, String type, String typeName, boolean isEnum, boolean nullable, String dflt) {}

  /** The poller's status column and its values. */
  public record StatusColumn(
      String column,
      List<String> pending,
      List<String> done,
      List<String> inProgress,
      List<String> failed,
      Map<String, Long> counts) {}

  /** The inferred roles of the columns. */
  public record Roles(
      List<String> key,
      Optional<StatusColumn> status,
      Optional<String> payload,
      boolean payloadIsJson,
      List<String> bookkeeping,
      Optional<String> created,
      Optional<String> processed) {}

  /** The readiness verdict for capture. */
  public enum Verdict {
    READY,
    READY_WITH_WARNINGS,
    NOT_READY;

    /** The lower-case, dash-separated form used in output. */
    public String id() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  /** The column named {@code name}, if present. */
  public Optional<Column> column(String name) {
    return columns.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  /** The public view of this analysis. */
  public TableAnalysis analysis() {
    return new TableAnalysis(
        table,
        columns.stream()
            .map(c -> new TableAnalysis.Column(c.name(), c.type(), c.nullable(), c.dflt()))
            .toList(),
        primaryKey,
        replicaIdentity,
        owner,
        rows,
        rowsExact,
        totalBytes,
        activity,
        new TableAnalysis.Roles(
            roles.key(),
            roles
                .status()
                .map(
                    s ->
                        new TableAnalysis.StatusColumn(
                            s.column(),
                            s.pending(),
                            s.done(),
                            s.inProgress(),
                            s.failed(),
                            s.counts())),
            roles.payload(),
            roles.bookkeeping(),
            roles.created(),
            roles.processed()),
        TableAnalysis.Verdict.valueOf(verdict.name()),
        notes,
        motion);
  }
}
