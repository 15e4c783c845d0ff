package dev.unpoll.migration;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What {@code unpoll status} shows: the relay slot, every migrated table's phase and, when Kafka is
 * configured, the time of the last event in each table's topic; optionally one table's log.
 *
 * @param slot the relay's replication slot
 * @param tables every table in {@code unpoll.migration}, by name
 * @param kafkaChecked whether Kafka was configured, so {@link TableStatus#lastEventTime()} was read
 * @param log the transition log of the table asked for, oldest first; empty when none was asked
 */
public record StatusReport(
    SlotStatus slot, List<TableStatus> tables, boolean kafkaChecked, Optional<List<LogEntry>> log) {
  /** Copies the lists. */
  public StatusReport {
    tables = List.copyOf(tables);
    log = log.map(List::copyOf);
  }

  /**
   * The relay's replication slot.
   *
   * @param name the slot's name, or null when no slot was named (no option, no file)
   * @param exists whether it exists
   * @param active whether a client reads it
   * @param retainedWalBytes WAL it keeps, or null
   * @param lagBytes WAL not yet confirmed by the client, or null
   * @param walStatus PostgreSQL's {@code wal_status}, or null
   */
  public record SlotStatus(
      String name,
      boolean exists,
      boolean active,
      Long retainedWalBytes,
      Long lagBytes,
      String walStatus) {}

  /**
   * One migrated table.
   *
   * @param table the table, as recorded
   * @param phase its phase
   * @param since when it entered the phase
   * @param topic the topic of its recorded mapping, or null
   * @param lastEventTime the {@code ce_time} of the newest event in the topic, or null (none, no
   *     topic, or Kafka not configured)
   */
  public record TableStatus(
      String table, Phase phase, Instant since, String topic, Instant lastEventTime) {}

  /**
   * One transition of {@code unpoll.migration_log}.
   *
   * @param table the table
   * @param from the phase before, or null
   * @param to the phase after
   * @param at when
   * @param actor who
   * @param reason why, or null
   * @param failedGates the names of the gates that did not pass (forced past them)
   * @param gateResultsJson the gate results as recorded (a JSON array of name, passed, detail,
   *     figures)
   */
  public record LogEntry(
      String table,
      Phase from,
      Phase to,
      Instant at,
      String actor,
      String reason,
      List<String> failedGates,
      String gateResultsJson) {
    /** Copies the list. */
    public LogEntry {
      failedGates = List.copyOf(failedGates);
    }
  }
}
