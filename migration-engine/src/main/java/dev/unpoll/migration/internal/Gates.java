package dev.unpoll.migration.internal;

import dev.unpoll.migration.Gate;
import dev.unpoll.migration.GateFigures;
import dev.unpoll.migration.Reconciliation;

/** The gates several phases share, each from one reconciliation. */
final class Gates {
  private Gates() {}

  /** {@code events-complete}: every row in the window has its event in the topic. */
  static Gate eventsComplete(Reconciliation r, String slot, String slotState) {
    Reconciliation.Events ev = r.events();
    String detail =
        ev.missing() == 0
            ? (r.rows() == 0
                ? "no rows in the window: nothing to compare"
                : "all " + r.rows() + " row(s) in the window have their event in the topic")
            : ev.missing()
                + " of "
                + r.rows()
                + " row(s) in the window have no event in the"
                + " topic: is the relay running and publishing this table?";
    if (!ev.topicFound()) {
      detail =
          "topic "
              + r.topic()
              + " does not exist (yet): is the relay"
              + " running and publishing this table? "
              + ev.missing()
              + " of "
              + r.rows()
              + " row(s) in the window have no event";
    }
    boolean passed = ev.topicFound() && ev.missing() == 0;
    if (!passed && !slotState.equals("active")) {
      detail += " (replication slot " + slot + " is " + slotState + ": no relay reads it)";
    }
    return new Gate(
        "events-complete",
        passed,
        detail,
        new GateFigures.EventsComplete(
            r.rows(),
            ev.missing(),
            ev.duplicated(),
            ev.missingKeys(),
            ev.topicFound(),
            slot,
            slotState));
  }

  /** {@code ledger-matches}: every row the poller handled is in the shadow ledger. */
  static Gate ledgerMatches(Reconciliation r) {
    Reconciliation.Handling h = r.handling();
    boolean found = h.ledgerTableFound();
    boolean ok = found && h.missingInLedger() == 0;
    return new Gate(
        "ledger-matches",
        ok,
        !found
            ? "table unpoll_shadow_ledger not found: is the shadow consumer running?"
            : ok
                ? "every row the poller handled is in the shadow ledger"
                : h.missingInLedger()
                    + " of "
                    + h.pollerHandled()
                    + " row(s) the poller handled are missing from the shadow ledger",
        new GateFigures.LedgerMatches(
            h.pollerHandled(), h.missingInLedger(), h.missingInLedgerKeys()));
  }

  /** {@code latency}: the figures of both paths, informational (always passes). */
  static Gate latency(Reconciliation r) {
    return new Gate(
        "latency",
        true,
        "poller p50 "
            + text(r.pollerLatency().p50Ms())
            + " ms, event p50 "
            + text(r.eventLatency().p50Ms())
            + " ms (informational)",
        new GateFigures.Latency(r.pollerLatency(), r.eventLatency()));
  }

  /** {@code no-double-handling}: the consumer handled no row twice. */
  static Gate noDoubleHandling(Reconciliation r) {
    Reconciliation.Handling h = r.handling();
    return new Gate(
        "no-double-handling",
        h.doubleHandled() == 0,
        h.doubleHandled() + " row(s) handled more than once by the consumer",
        new GateFigures.NoDoubleHandling(h.doubleHandled(), h.doubleHandledKeys()));
  }

  /** A percentile as the old JSON text rendering said it: {@code null} when there are none. */
  private static String text(Long ms) {
    return ms == null ? "null" : ms.toString();
  }
}
