package dev.unpoll.migration;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What {@code unpoll status} shows: the relay slot, every migrated table's phase and, when Kafka is
 * configured, each table's topic (last event, end offset, events per second), its consumer group's
 * lag and its dead letters; optionally one table's log. A report is one sample: give it to {@link
 * dev.unpoll.migration.engine.Migrations#status(dev.unpoll.contract.TableName, StatusReport)} as
 * the previous one to get the events per second between the two.
 *
 * @param takenAt when the sample was taken (just before the topics' end offsets were read)
 * @param slot the relay's replication slot
 * @param tables every table in {@code unpoll.migration}, by name
 * @param kafkaChecked whether Kafka was configured, so {@link TableStatus#lastEventTime()} was read
 * @param log the transition log of the table asked for, oldest first; empty when none was asked
 */
public record StatusReport(
    Instant takenAt,
    SlotStatus slot,
    List<TableStatus> tables,
    boolean kafkaChecked,
    Optional<List<LogEntry>> log) {
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
   * @param problem what is wrong with it, or null: dropped while the relay has offsets for it, or
   *     invalidated (its WAL is gone); {@code unpoll doctor} says what to do
   */
  public record SlotStatus(
      String name,
      boolean exists,
      boolean active,
      Long retainedWalBytes,
      Long lagBytes,
      String walStatus,
      String problem) {}

  /**
   * One migrated table.
   *
   * @param table the table, as recorded
   * @param phase its phase
   * @param since when it entered the phase
   * @param topic the topic of its recorded mapping, or null
   * @param lastEventTime the {@code ce_time} of the newest event in the topic, or null (none, no
   *     topic, or Kafka not configured)
   * @param endOffset the sum of the topic's end offsets (every event ever written to it), or null
   *     (no topic, the topic does not exist, or Kafka not configured)
   * @param eventsPerSecond events written to the topic per second since the previous sample, or
   *     null (no previous sample, no end offset in either, or the topic was recreated)
   * @param consumerGroups the lag of the consumer group recorded for the table at shadow (empty
   *     when none is recorded or Kafka is not configured)
   * @param deadLetterTopic the table's default dead-letter topic ({@code <topic>.DLT}), or null
   * @param deadLetters records in the dead-letter topic (end minus start offsets: what retention
   *     kept), or null (the topic does not exist, or Kafka not configured)
   */
  public record TableStatus(
      String table,
      Phase phase,
      Instant since,
      String topic,
      Instant lastEventTime,
      Long endOffset,
      Double eventsPerSecond,
      List<GroupLag> consumerGroups,
      String deadLetterTopic,
      Long deadLetters) {
    /** Copies the list. */
    public TableStatus {
      consumerGroups = List.copyOf(consumerGroups);
    }
  }

  /**
   * One consumer group's lag on a table's topic.
   *
   * @param group the group
   * @param lag events the group has not committed yet: per partition, the end offset minus the
   *     committed offset; a partition without a committed offset counts from its start offset (the
   *     consumers start at the earliest record)
   * @param uncommittedPartitions partitions of the topic where the group has no committed offset
   * @param members consumers in the group now (0: none is running)
   * @param state the group's state as the broker reports it ({@code Stable}, {@code Empty}, ...)
   */
  public record GroupLag(
      String group, long lag, int uncommittedPartitions, int members, String state) {}

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
