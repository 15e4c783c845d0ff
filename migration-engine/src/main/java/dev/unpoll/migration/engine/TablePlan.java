package dev.unpoll.migration.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.TableAnalysis;
import dev.unpoll.migration.internal.Analyzer;
import dev.unpoll.migration.internal.Mapping;
import dev.unpoll.migration.internal.Names;
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
  private static final ObjectMapper JSON = new ObjectMapper();

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

  /** The plan of an analyzed table: a mapping to {@code topic} is proposed only when ready. */
  static TablePlan of(TableInfo info, String topic) {
    return new TablePlan(
        info, info.verdict() == TableInfo.Verdict.NOT_READY ? null : Mapping.propose(info, topic));
  }

  /** The whole analysis: shape, statistics, roles, verdict and notes. */
  public TableAnalysis analysis() {
    return info.analysis();
  }

  /** The table. */
  public TableName table() {
    return info.table();
  }

  /** Whether the table is ready for capture, so a mapping is proposed. */
  public boolean ready() {
    return mapping != null;
  }

  /** What led to the verdict, the blocking problem first. */
  public List<String> notes() {
    return info.notes();
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
    return proposed().pending();
  }

  /** The status values of handled rows. */
  public List<String> doneValues() {
    return proposed().done();
  }

  /** The status values the poller sets while it works on a row. */
  public List<String> inProgressValues() {
    return proposed().inProgress();
  }

  /** The status values the poller sets after a failure. */
  public List<String> failedValues() {
    return proposed().failed();
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
    return proposed().topic();
  }

  /** The proposed mapping as one JSON object (the {@code tables:} entry of the relay's file). */
  public String mappingJson() {
    try {
      return JSON.writeValueAsString(proposed().node());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The proposed mapping as the lines of its YAML {@code tables:} entry, unindented. */
  public List<String> mappingYaml() {
    ObjectNode node = proposed().node();
    TableName table = node.has("table") ? Names.table(node.get("table").asText()) : null;
    return PlanWriter.merge("", table, node)
        .text()
        .lines()
        .filter(l -> !l.startsWith("tables:"))
        .map(l -> l.startsWith("  ") ? l.substring(2) : l)
        .toList();
  }

  /**
   * The relay configuration {@code configYaml} with this table's proposed mapping added under
   * {@code tables:} (or replacing the table's existing mapping), comments and order kept.
   */
  public String mergeInto(String configYaml) {
    return merge(configYaml).text();
  }

  /** {@link #mergeInto}, saying whether an existing mapping of the table was replaced. */
  public Merged merge(String configYaml) {
    PlanWriter.Result r = PlanWriter.merge(configYaml, info.table(), proposed().node());
    return new Merged(r.text(), r.replaced());
  }

  /**
   * A configuration with the proposed mapping merged in.
   *
   * @param text the whole configuration
   * @param replaced whether the table's existing mapping was replaced (else one was added)
   */
  public record Merged(String text, boolean replaced) {}

  private Mapping proposed() {
    if (mapping == null) {
      throw MigrationException.checkFailed(
          info.table().display() + " is not ready: " + info.notes().get(0));
    }
    return mapping;
  }
}
