package dev.unpoll.migration;

import dev.unpoll.contract.TableName;
import java.util.List;

/**
 * The figures of {@code unpoll verify} for one table, for programs (the demo's summary, a service's
 * own checks). The JSON of the command carries the same figures plus sample keys.
 *
 * @param table the table
 * @param topic the topic compared against
 * @param rows rows created in the window
 * @param missingEvents rows without an event in the topic
 * @param duplicatedEvents rows whose event is in the topic more than once
 * @param pollerHandled rows done without a consumer record: handled by the poller
 * @param consumerHandled rows the consumer recorded in {@code unpoll_processed}
 * @param ledgerRecorded rows the shadow consumer recorded in {@code unpoll_shadow_ledger}
 * @param missingInLedger rows the poller handled that the shadow ledger lacks
 * @param unhandled rows past the settle time handled by nobody
 * @param doubleHandled rows the consumer recorded more than once
 * @param backlog pending rows older than the settle time in the whole table (-1: no status column)
 * @param pollerLatency processed − created of the rows the poller handled
 * @param eventLatency handled − commit of the rows the consumer handled or recorded
 * @param failures why {@code verify} would exit 3; empty when all is well
 */
public record Reconciliation(
    TableName table,
    String topic,
    long rows,
    int missingEvents,
    int duplicatedEvents,
    long pollerHandled,
    long consumerHandled,
    long ledgerRecorded,
    int missingInLedger,
    int unhandled,
    int doubleHandled,
    long backlog,
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
