package dev.unpoll.migration;

import java.util.List;

/**
 * What a gate measured: one record per kind of gate. The record components, in order, are the
 * gate's figures as the {@code unpoll} command prints them ({@code --json}: the keys of {@code
 * figures}) and as {@code unpoll.migration_log} records them.
 */
public sealed interface GateFigures {
  /**
   * {@code wal-level}.
   *
   * @param walLevel the server's {@code wal_level}
   */
  record WalLevel(String walLevel) implements GateFigures {}

  /**
   * {@code replica-identity}.
   *
   * @param replicaIdentity default, full, index or nothing
   * @param primaryKey the primary key columns
   */
  record ReplicaIdentity(String replicaIdentity, List<String> primaryKey) implements GateFigures {
    /** Copies the list. */
    public ReplicaIdentity {
      primaryKey = List.copyOf(primaryKey);
    }
  }

  /**
   * {@code publication-privilege}.
   *
   * @param tableOwner the table's owner
   * @param ownsTable whether the current user has the owner's privileges
   * @param publicationOk whether the current user may alter (or create) the publication
   */
  record PublicationPrivilege(String tableOwner, boolean ownsTable, boolean publicationOk)
      implements GateFigures {}

  /**
   * {@code replication-privilege}.
   *
   * @param replication whether the current user may replicate
   */
  record ReplicationPrivilege(boolean replication) implements GateFigures {}

  /**
   * {@code free-slot} when the relay's slot does not exist yet.
   *
   * @param maxReplicationSlots the server's {@code max_replication_slots}
   * @param usedSlots slots in use
   */
  record FreeSlots(long maxReplicationSlots, long usedSlots) implements GateFigures {}

  /**
   * {@code free-slot} when the relay's slot exists.
   *
   * @param slot the slot
   * @param plugin its output plugin
   */
  record ExistingSlot(String slot, String plugin) implements GateFigures {}

  /**
   * {@code events-complete}.
   *
   * @param rows rows in the window
   * @param missing rows without an event
   * @param duplicated rows with more than one event
   * @param missingKeys up to 20 idempotency keys of rows without an event
   * @param topicFound whether the topic exists
   * @param slot the relay's slot
   * @param slotState active, inactive or missing
   */
  record EventsComplete(
      long rows,
      int missing,
      int duplicated,
      List<String> missingKeys,
      boolean topicFound,
      String slot,
      String slotState)
      implements GateFigures {
    /** Copies the list. */
    public EventsComplete {
      missingKeys = List.copyOf(missingKeys);
    }
  }

  /**
   * {@code ledger-matches}.
   *
   * @param pollerHandled rows the poller handled
   * @param missingInLedger of them, rows the shadow ledger lacks
   * @param missingInLedgerKeys up to 20 of their idempotency keys
   */
  record LedgerMatches(long pollerHandled, int missingInLedger, List<String> missingInLedgerKeys)
      implements GateFigures {
    /** Copies the list. */
    public LedgerMatches {
      missingInLedgerKeys = List.copyOf(missingInLedgerKeys);
    }
  }

  /**
   * {@code latency} (informational).
   *
   * @param poller the poller path's latency
   * @param event the event path's latency
   */
  record Latency(Reconciliation.Latency poller, Reconciliation.Latency event)
      implements GateFigures {}

  /**
   * {@code no-poller-claims}.
   *
   * @param pollerHandled rows in the window the poller handled
   * @param rows rows in the window
   */
  record NoPollerClaims(long pollerHandled, long rows) implements GateFigures {}

  /**
   * {@code backlog-empty}.
   *
   * @param backlog rows older than the settle time not in a done state (-1: not measurable)
   * @param backlogKeys up to 20 of their idempotency keys
   */
  record BacklogEmpty(long backlog, List<String> backlogKeys) implements GateFigures {
    /** Copies the list. */
    public BacklogEmpty {
      backlogKeys = List.copyOf(backlogKeys);
    }
  }

  /**
   * {@code no-double-handling}.
   *
   * @param doubleHandled rows the consumer recorded more than once
   * @param doubleHandledKeys up to 20 of their idempotency keys
   */
  record NoDoubleHandling(int doubleHandled, List<String> doubleHandledKeys)
      implements GateFigures {
    /** Copies the list. */
    public NoDoubleHandling {
      doubleHandledKeys = List.copyOf(doubleHandledKeys);
    }
  }

  /**
   * {@code cutover-held}.
   *
   * @param heldSeconds how long cutover has held
   * @param holdSeconds how long it must hold ({@code --hold})
   */
  record CutoverHeld(long heldSeconds, long holdSeconds) implements GateFigures {}

  /**
   * {@code all-handled}.
   *
   * @param unhandled rows older than the settle time handled by nobody
   * @param unhandledKeys up to 20 of their idempotency keys
   */
  record AllHandled(int unhandled, List<String> unhandledKeys) implements GateFigures {
    /** Copies the list. */
    public AllHandled {
      unhandledKeys = List.copyOf(unhandledKeys);
    }
  }
}
