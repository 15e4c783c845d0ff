package dev.unpoll.faults;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * What the writers did, from their side: every row or event they tried, with its key, its per-key
 * sequence number and how its transaction ended. An event's identity is what its Kafka record
 * carries: the legacy row's key ({@code id}), or the outbox event's {@code ce_id}.
 */
final class Ledger {
  /** How a transaction ended, as its writer saw it. */
  enum Outcome {
    COMMITTED,
    ROLLED_BACK,
    /** The connection died at commit: it may have committed or not. */
    UNKNOWN
  }

  /**
   * One row or event.
   *
   * @param kind {@code legacy} or {@code outbox}
   * @param id the legacy row's id, or the outbox event's id ({@code ce_id})
   * @param key the business key (the outbox event's aggregate id)
   * @param seq the per-key sequence number, counted over committed entries only
   * @param outcome how its transaction ended
   */
  record Entry(String kind, String id, String key, long seq, Outcome outcome) {}

  private final ConcurrentMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Long> commitLsnAtMost = new ConcurrentHashMap<>();

  void record(Entry e) {
    if (entries.putIfAbsent(e.kind() + ":" + e.id(), e) != null) {
      throw new IllegalStateException("the ledger has " + e.id() + " twice");
    }
  }

  /**
   * Notes that the committed {@code e}'s commit record ends at or before {@code lsn} (the server's
   * WAL insert position read after the commit returned).
   */
  void committedBefore(Entry e, long lsn) {
    commitLsnAtMost.put(e.kind() + ":" + e.id(), lsn);
  }

  /**
   * The committed entries whose commit record surely ends at or before {@code lsn}: a slot whose
   * confirmed position is {@code lsn} will never send them again, so they must already be in Kafka.
   */
  List<Entry> committedAtOrBefore(long lsn) {
    List<Entry> out = new ArrayList<>();
    commitLsnAtMost.forEach(
        (id, at) -> {
          if (at <= lsn) {
            out.add(entries.get(id));
          }
        });
    return out;
  }

  List<Entry> all() {
    return new ArrayList<>(entries.values());
  }

  long count(Outcome outcome) {
    return entries.values().stream().filter(e -> e.outcome() == outcome).count();
  }
}
