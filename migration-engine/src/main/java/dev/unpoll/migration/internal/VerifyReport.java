package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Reconciliation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The figures of one reconciliation while {@link Verifier} collects them. */
final class VerifyReport {
  String table;
  String topic;
  String group;
  Phase phase;
  Instant from;
  Instant to;
  long rows;
  long topicEvents;
  boolean topicFound;
  final List<String> missingEvents = new ArrayList<>();
  final List<String> duplicatedEvents = new ArrayList<>();
  long done;
  long pollerHandled;
  long consumerHandled;
  long ledgerRecorded;
  long backlog;
  final List<String> backlogKeys = new ArrayList<>();
  boolean processedTable;
  boolean ledgerTable;
  final List<String> missingInLedger = new ArrayList<>();
  final List<String> unhandled = new ArrayList<>();
  final List<String> doubleHandled = new ArrayList<>();
  Verifier.Percentiles pollerLatency;
  Verifier.Percentiles eventLatency;

  /** Whether the topic exists. */
  public boolean topicFound() {
    return topicFound;
  }

  /** Rows without an event in the topic. */
  public int missingEvents() {
    return missingEvents.size();
  }

  /** Rows whose event is in the topic more than once (normal under at-least-once). */
  public int duplicatedEvents() {
    return duplicatedEvents.size();
  }

  /** Rows the poller handled that the consumer's shadow ledger does not hold. */
  public int missingInLedger() {
    return missingInLedger.size();
  }

  /** Rows in the window past the settle time that nobody handled. */
  public int unhandled() {
    return unhandled.size();
  }

  /** Rows the consumer recorded as handled more than once. */
  public int doubleHandled() {
    return doubleHandled.size();
  }

  /** Rows the poller handled (done, and not recorded by the consumer). */
  public long pollerHandled() {
    return pollerHandled;
  }

  /**
   * Rows not in a done state older than the settle time: pending rows in the whole table, and rows
   * in progress, failed or in any other not-done status in the window; -1 without a status column.
   */
  public long backlog() {
    return backlog;
  }

  /** Up to {@link Verifier#SAMPLE_KEYS} idempotency keys of backlog rows. */
  public List<String> backlogKeys() {
    return List.copyOf(backlogKeys);
  }

  /** Rows in the window. */
  public long rows() {
    return rows;
  }

  /** Whether a consumer group was given. */
  public boolean hasGroup() {
    return group != null;
  }

  /** The failures that make {@code verify} exit 3, for the table's phase. */
  public List<String> failures() {
    List<String> f = new ArrayList<>();
    if (!topicFound) {
      f.add(
          "topic "
              + topic
              + " does not exist (yet): has the relay published anything? "
              + missingEvents()
              + " row(s) have no event");
    } else if (missingEvents() > 0) {
      f.add(missingEvents() + " row(s) have no event in topic " + topic);
    }
    if (doubleHandled() > 0) {
      f.add(doubleHandled() + " row(s) were handled more than once by consumer group " + group);
    }
    if (group != null && phase == Phase.SHADOW && missingInLedger() > 0) {
      f.add(
          missingInLedger()
              + " row(s) handled by the poller are missing from the shadow ledger of "
              + group);
    }
    if ((phase == Phase.CUTOVER || phase == Phase.RETIRED) && unhandled() > 0) {
      f.add(unhandled() + " row(s) older than the settle time were handled by nobody");
    }
    return f;
  }

  /** The figures as the public record, key lists cut to {@link Verifier#SAMPLE_KEYS}. */
  Reconciliation reconciliation(TableName t) {
    return new Reconciliation(
        t,
        topic,
        group,
        phase,
        new Reconciliation.Window(from, to),
        rows,
        new Reconciliation.Events(
            topicFound,
            topicEvents,
            missingEvents(),
            duplicatedEvents(),
            sample(missingEvents),
            sample(duplicatedEvents)),
        new Reconciliation.Handling(
            done,
            pollerHandled,
            consumerHandled,
            ledgerRecorded,
            missingInLedger(),
            unhandled(),
            doubleHandled(),
            backlog,
            processedTable,
            ledgerTable,
            sample(missingInLedger),
            sample(unhandled),
            sample(backlogKeys),
            sample(doubleHandled)),
        latency(pollerLatency),
        latency(eventLatency),
        failures());
  }

  private static Reconciliation.Latency latency(Verifier.Percentiles p) {
    return new Reconciliation.Latency(p.count(), p.p50(), p.p95(), p.p99());
  }

  private static List<String> sample(List<String> keys) {
    return keys.stream().limit(Verifier.SAMPLE_KEYS).toList();
  }
}
