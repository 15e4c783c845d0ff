package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.migration.MigrationException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Finds a table's mapping: the configuration file's entry first (the relay runs from it), then the
 * mapping recorded in {@code unpoll.migration} at capture, then a proposal with the given topic.
 */
public final class MappingResolver {
  /** Key in the recorded mapping (database only, never written to YAML) for the consumer group. */
  public static final String CONSUMER_GROUP_KEY = "consumer-group";

  private MappingResolver() {}

  /** The mapping to use for {@code info}'s table. */
  public static Mapping resolve(
      Settings s, Optional<ControlSchema.State> state, TableInfo info, String topic) {
    Optional<TableMapping> fromFile = s.tableMapping(info.table());
    if (fromFile.isPresent()) {
      Mapping m = Mapping.of(fromFile.get());
      if (topic != null && !topic.equals(m.topic())) {
        throw MigrationException.usage(
            "--topic "
                + topic
                + " differs from the topic "
                + m.topic()
                + " that "
                + s.config().get().path()
                + " maps "
                + info.table().display()
                + " to");
      }
      return m;
    }
    if (state.isPresent() && state.get().mapping().has("topic")) {
      ObjectNode recorded = (ObjectNode) state.get().mapping().deepCopy();
      recorded.remove(CONSUMER_GROUP_KEY);
      return Mapping.of(recorded, info.table());
    }
    if (topic != null) {
      return Mapping.propose(info, topic);
    }
    throw MigrationException.usage(
        "no mapping for "
            + info.table().display()
            + ": pass --config unpoll.yaml with the table"
            + " under tables: (write it with `unpoll plan --table "
            + info.table().display()
            + " --out unpoll.yaml`) or --topic <topic>");
  }

  /**
   * Whether {@link #resolve} will have to propose a mapping (nothing maps the table), which needs
   * the full analysis with the status values read from the data.
   */
  public static boolean needsProposal(
      Settings s, Optional<ControlSchema.State> state, TableName table) {
    return s.tableMapping(table).isEmpty()
        && !(state.isPresent() && state.get().mapping().has("topic"));
  }

  /**
   * The table as {@link #resolve} needs it: its full analysis when a mapping must be proposed, else
   * only its shape.
   */
  public static TableInfo tableInfo(
      Connection c, Settings s, Optional<ControlSchema.State> state, TableName table)
      throws SQLException {
    return needsProposal(s, state, table) ? Analyzer.analyze(c, table) : Analyzer.shape(c, table);
  }

  /** The consumer group recorded for the table, if any. */
  public static Optional<String> recordedGroup(Optional<ControlSchema.State> state) {
    return state
        .map(st -> st.mapping().path(CONSUMER_GROUP_KEY).asText(null))
        .filter(g -> !g.isBlank());
  }
}
