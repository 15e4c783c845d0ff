package dev.unpoll.migration;

import dev.unpoll.contract.TableName;
import java.time.Instant;
import java.util.List;

/**
 * The figures of {@code unpoll verify} for one table: the table's rows in a window against the
 * events in the topic, and what the poller handled against what the consumer recorded. The command
 * prints exactly this, as text or {@code --json}; programs (the demo's summary, a service's own
 * checks) read it directly. Key lists are samples of at most 20 idempotency keys.
 *
 * @param table the table
 * @param topic the topic compared against
 * @param consumerGroup the consumer's group, or null when the consumer side is not compared
 * @param phase the table's phase, or null when unpoll has not captured it
 * @param window the rows compared: created in this window
 * @param rows rows created in the window
 * @param events the rows against the topic's events
 * @param handling the rows against the poller's and the consumer's records
 * @param pollerLatency processed − created of the rows the poller handled
 * @param eventLatency handled − commit of the rows the consumer handled or recorded
 * @param failures why {@code verify} would exit 3; empty when all is well
 */
public record Reconciliation(
    TableName table,
    String topic,
    String consumerGroup,
    Phase phase,
    Window window,
    long rows,
    Events events,
    Handling handling,
    Latency pollerLatency,
    Latency eventLatency,
    List<String> failures) {

  /** Copies the list. */
  public Reconciliation {
    failures = List.copyOf(failures);
  }

  /** Whether nothing is missing or double-handled. */
  public boolean ok() {
    return failures.isEmpty();
  }

  /** Rows without an event in the topic. */
  public int missingEvents() {
    return events.missing();
  }

  /** Rows whose event is in the topic more than once (normal under at-least-once). */
  public int duplicatedEvents() {
    return events.duplicated();
  }

  /** Rows done without a consumer record: handled by the poller. */
  public long pollerHandled() {
    return handling.pollerHandled();
  }

  /** Rows the consumer recorded as handled more than once. */
  public int doubleHandled() {
    return handling.doubleHandled();
  }

  /**
   * The window of creation times compared.
   *
   * @param from first creation time compared, or null when the table has no creation-time column
   *     (then every row is compared)
   * @param to rows created from here on are younger than the settle time (null with {@code from})
   */
  public record Window(Instant from, Instant to) {
    /** Whether every row of the table is compared (no creation-time column). */
    public boolean allRows() {
      return from == null;
    }
  }

  /**
   * The rows against the events of the topic, by {@code ce_id}.
   *
   * @param topicFound whether the topic exists
   * @param inTopic events of the table in the topic
   * @param missing rows without an event
   * @param duplicated rows whose event is in the topic more than once
   * @param missingKeys sample of the rows without an event
   * @param duplicatedKeys sample of the rows with duplicated events
   */
  public record Events(
      boolean topicFound,
      long inTopic,
      int missing,
      int duplicated,
      List<String> missingKeys,
      List<String> duplicatedKeys) {
    /** Copies the lists. */
    public Events {
      missingKeys = List.copyOf(missingKeys);
      duplicatedKeys = List.copyOf(duplicatedKeys);
    }
  }

  /**
   * The rows against what the poller and the consumer did.
   *
   * @param done rows in a done state
   * @param pollerHandled rows done without a consumer record: handled by the poller
   * @param consumerHandled rows the consumer recorded in {@code unpoll_processed}
   * @param ledgerRecorded rows the shadow consumer recorded in {@code unpoll_shadow_ledger}
   * @param missingInLedger rows the poller handled that the shadow ledger lacks
   * @param unhandled rows past the settle time handled by nobody
   * @param doubleHandled rows the consumer recorded more than once
   * @param backlog rows older than the settle time not in a done state: pending rows in the whole
   *     table, rows in progress, failed or in any other not-done status in the window; -1 without a
   *     status column
   * @param processedTableFound whether {@code unpoll_processed} exists
   * @param ledgerTableFound whether {@code unpoll_shadow_ledger} exists
   * @param missingInLedgerKeys sample of {@code missingInLedger}
   * @param unhandledKeys sample of {@code unhandled}
   * @param backlogKeys sample of {@code backlog}
   * @param doubleHandledKeys sample of {@code doubleHandled}
   */
  public record Handling(
      long done,
      long pollerHandled,
      long consumerHandled,
      long ledgerRecorded,
      int missingInLedger,
      int unhandled,
      int doubleHandled,
      long backlog,
      boolean processedTableFound,
      boolean ledgerTableFound,
      List<String> missingInLedgerKeys,
      List<String> unhandledKeys,
      List<String> backlogKeys,
      List<String> doubleHandledKeys) {
    /** Copies the lists. */
    public Handling {
      missingInLedgerKeys = List.copyOf(missingInLedgerKeys);
      unhandledKeys = List.copyOf(unhandledKeys);
      backlogKeys = List.copyOf(backlogKeys);
      doubleHandledKeys = List.copyOf(doubleHandledKeys);
    }
  }

  /**
   * Latency percentiles in milliseconds (nearest rank); null percentiles when {@code count} is 0.
   *
   * @param count samples
   * @param p50Ms median
   * @param p95Ms 95th percentile
   * @param p99Ms 99th percentile
   */
  public record Latency(int count, Long p50Ms, Long p95Ms, Long p99Ms) {}
}
