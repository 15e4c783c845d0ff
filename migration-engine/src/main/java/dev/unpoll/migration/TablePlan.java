package dev.unpoll.migration;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.internal.Analyzer;
import dev.unpoll.migration.internal.Mapping;
import dev.unpoll.migration.internal.PlanWriter;
import dev.unpoll.migration.internal.TableInfo;
import java.sql.Connection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code unpoll analyze} and {@code unpoll plan} find for one table, as a library: the roles
 * of its columns, the readiness verdict and the relay mapping they propose.
 *
 * <pre>{@code
 * TablePlan plan = TablePlan.analyze(connection, TableName.parse("shop.order_integration"));
 * String yaml = plan.mergeInto(Files.readString(Path.of("unpoll.yaml")));
 * }</pre>
 */
public final class TablePlan {
  private final TableInfo info;
  private final Mapping mapping;

  private TablePlan(TableInfo info, Mapping mapping) {
    this.info = info;
    this.mapping = mapping;
  }

  /** Analyzes {@code table} over {@code connection} and proposes its mapping (default topic). */
  public static TablePlan analyze(Connection connection, TableName table) {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(table, "table");
    TableInfo info = Analyzer.analyze(connection, table);
    return new TablePlan(info, Mapping.propose(info, null));
  }

  /** The table. */
  public TableName table() {
    return info.table();
  }

  /** The key columns. */
  public List<String> key() {
    return info.roles().key();
  }

  /** The payload column, if the table has one. */
  public Optional<String> payloadColumn() {
    return info.roles().payload();
  }

  /** The poller's status column, if found. */
  public Optional<String> statusColumn() {
    return info.roles().status().map(TableInfo.StatusColumn::column);
  }

  /** The status values of rows waiting for the poller. */
  public List<String> pendingValues() {
    return mapping.pending();
  }

  /** The status values of handled rows. */
  public List<String> doneValues() {
    return mapping.done();
  }

  /** The status values the poller sets while it works on a row. */
  public List<String> inProgressValues() {
    return mapping.inProgress();
  }

  /** The status values the poller sets after a failure. */
  public List<String> failedValues() {
    return mapping.failed();
  }

  /** The bookkeeping columns (updates to them emit nothing). */
  public List<String> bookkeepingColumns() {
    return info.roles().bookkeeping();
  }

  /** The readiness verdict: {@code ready}, {@code ready-with-warnings} or {@code not-ready}. */
  public String verdict() {
    return info.verdict().id();
  }

  /** The topic the proposed mapping publishes to. */
  public String topic() {
    return mapping.topic();
  }

  /**
   * The relay configuration {@code configYaml} with this table's proposed mapping added under
   * {@code tables:} (or replacing the table's existing mapping), comments and order kept.
   */
  public String mergeInto(String configYaml) {
    return PlanWriter.merge(configYaml, info.table(), mapping.node()).text();
  }
}
