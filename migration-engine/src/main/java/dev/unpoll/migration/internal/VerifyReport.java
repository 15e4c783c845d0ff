package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Phase;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The figures of one reconciliation; see docs/cli.md for the JSON field names. */
public final class VerifyReport {
  private static final ObjectMapper JSON = new ObjectMapper();

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

  /** The figures as the public record. */
  public dev.unpoll.migration.Reconciliation reconciliation(TableName t) {
    return new dev.unpoll.migration.Reconciliation(
        t,
        topic,
        rows,
        missingEvents(),
        duplicatedEvents(),
        pollerHandled,
        consumerHandled,
        ledgerRecorded,
        missingInLedger(),
        unhandled(),
        doubleHandled(),
        backlog,
        latency(pollerLatency),
        latency(eventLatency),
        failures());
  }

  private static dev.unpoll.migration.Reconciliation.Latency latency(Verifier.Percentiles p) {
    return new dev.unpoll.migration.Reconciliation.Latency(p.count(), p.p50(), p.p95(), p.p99());
  }

  /** The report as JSON. */
  public ObjectNode json() {
    ObjectNode n = JSON.createObjectNode();
    n.put("table", table);
    n.put("topic", topic);
    n.put("consumerGroup", group);
    n.put("phase", phase == null ? null : phase.id());
    ObjectNode w = n.putObject("window");
    w.put("from", from == null ? null : from.toString());
    w.put("to", to == null ? null : to.toString());
    w.put("allRows", from == null);
    n.put("rows", rows);
    ObjectNode ev = n.putObject("events");
    ev.put("topicFound", topicFound);
    ev.put("inTopic", topicEvents);
    ev.put("missing", missingEvents());
    ev.put("duplicated", duplicatedEvents());
    keys(ev.putArray("missingKeys"), missingEvents);
    keys(ev.putArray("duplicatedKeys"), duplicatedEvents);
    ObjectNode h = n.putObject("handling");
    h.put("done", done);
    h.put("pollerHandled", pollerHandled);
    h.put("consumerHandled", consumerHandled);
    h.put("ledgerRecorded", ledgerRecorded);
    h.put("missingInLedger", missingInLedger());
    h.put("unhandled", unhandled());
    h.put("doubleHandled", doubleHandled());
    h.put("backlog", backlog);
    h.put("processedTableFound", processedTable);
    h.put("ledgerTableFound", ledgerTable);
    keys(h.putArray("missingInLedgerKeys"), missingInLedger);
    keys(h.putArray("unhandledKeys"), unhandled);
    keys(h.putArray("backlogKeys"), backlogKeys);
    keys(h.putArray("doubleHandledKeys"), doubleHandled);
    ObjectNode l = n.putObject("latency");
    l.set("poller", pollerLatency.json());
    l.set("event", eventLatency.json());
    ArrayNode f = n.putArray("failures");
    failures().forEach(f::add);
    n.put("ok", failures().isEmpty());
    return n;
  }

  /** The report as lines of text. */
  public List<String> text() {
    List<String> out = new ArrayList<>();
    out.add(
        "table "
            + table
            + " → topic "
            + topic
            + (phase == null ? "" : " (phase " + phase.id() + ")"));
    out.add(
        from == null
            ? "window: all rows (no creation-time column)"
            : "window: " + from + " .. " + to);
    out.add("rows in window: " + rows + ", events of the table in topic: " + topicEvents);
    out.add(
        "events: missing "
            + missingEvents()
            + sample(missingEvents)
            + ", duplicated "
            + duplicatedEvents()
            + sample(duplicatedEvents));
    out.add(
        "handling: done "
            + done
            + ", by poller "
            + pollerHandled
            + ", by consumer "
            + consumerHandled
            + ", in shadow ledger "
            + ledgerRecorded
            + ", backlog "
            + (backlog < 0 ? "n/a" : Long.toString(backlog) + sample(backlogKeys)));
    if (group == null) {
      out.add("consumer: no --group given, consumer records not compared");
    } else {
      out.add(
          "consumer "
              + group
              + ": missing in ledger "
              + missingInLedger()
              + sample(missingInLedger)
              + ", unhandled "
              + unhandled()
              + sample(unhandled)
              + ", double-handled "
              + doubleHandled()
              + sample(doubleHandled));
    }
    out.add("latency poller path (processed - created): " + pollerLatency.text());
    out.add("latency event path (handled - commit): " + eventLatency.text());
    List<String> f = failures();
    out.add(f.isEmpty() ? "OK" : "FAILED: " + String.join("; ", f));
    return out;
  }

  private static String sample(List<String> keys) {
    if (keys.isEmpty()) {
      return "";
    }
    List<String> first = keys.subList(0, Math.min(5, keys.size()));
    return " " + first + (keys.size() > first.size() ? "…" : "");
  }

  private static void keys(ArrayNode a, List<String> keys) {
    keys.stream().limit(Verifier.SAMPLE_KEYS).forEach(a::add);
  }
}
