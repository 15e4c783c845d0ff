package dev.unpoll.faults;

import dev.unpoll.faults.Ledger.Entry;
import dev.unpoll.faults.Ledger.Outcome;
import dev.unpoll.outbox.Outbox;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.outbox.OutboxStrategy;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.postgresql.PGConnection;

/**
 * The writers: small transactions into the legacy table {@code fi.jobs} and through the outbox
 * (aggregate {@code acct}, per-key sequence numbers in the payload), a share of them rolled back on
 * purpose, and on request one large transaction, inserted row by row or by {@code COPY} (whose rows
 * share WAL records, so several changes carry one LSN). Everything goes into the {@link Ledger}.
 */
final class LoadGenerator implements AutoCloseable {
  static final String DDL =
      "CREATE SCHEMA IF NOT EXISTS fi;"
          + " CREATE TABLE IF NOT EXISTS fi.jobs (id bigint PRIMARY KEY, k text NOT NULL,"
          + " seq bigint NOT NULL, body text NOT NULL, status text NOT NULL DEFAULT 'NEW')";

  /**
   * Small transactions per second ({@code unpoll.faults.rate}, default 200): a steady load the
   * consumer keeps up with on a busy 2-core machine, so a run ends by settling, not by a backlog.
   */
  static final int RATE = Integer.getInteger("unpoll.faults.rate", 200);

  static final Outbox OUTBOX = Outbox.builder().deleteAfterInsert(true).build();

  /** Every third small transaction publishes through WAL messages instead of the table. */
  static final Outbox WAL_MESSAGES = Outbox.builder().strategy(OutboxStrategy.WAL_MESSAGE).build();

  /**
   * Planted in every row body and event payload: the security check fails when it shows in a
   * process's log (payloads are never logged).
   */
  static final String MARKER = "FI-PAYLOAD-MARKER-" + UUID.randomUUID();

  private final DataSource dataSource;
  private final Ledger ledger;
  private final Random random;
  private final AtomicLong ids = new AtomicLong();
  private final Map<String, Long> seqs = new ConcurrentHashMap<>();
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicLong committedTransactions = new AtomicLong();
  private final AtomicLong reconnects = new AtomicLong();
  private volatile Throwable failure;
  private Thread thread;

  LoadGenerator(DataSource dataSource, Ledger ledger, long seed) {
    this.dataSource = dataSource;
    this.ledger = ledger;
    this.random = new Random(seed);
  }

  static void createSchema(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(DDL);
      s.execute(OUTBOX.ddl());
    }
  }

  /**
   * Starts writing small transactions (one legacy row and one outbox event each) until stopped. A
   * lost connection (the server restarting) is not the end: the transaction it broke is in the
   * ledger (rolled back, or unknown when it broke at commit), and the writer reconnects.
   */
  void start() {
    running.set(true);
    thread =
        new Thread(
            () -> {
              long period = 1_000_000_000L / RATE;
              long next = System.nanoTime();
              while (running.get()) {
                try (Connection c = dataSource.getConnection()) {
                  c.setAutoCommit(false);
                  while (running.get()) {
                    smallTransaction(c);
                    next += period;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000)); // the load's pace
                    }
                  }
                } catch (SQLException e) {
                  reconnects.incrementAndGet();
                  next = System.nanoTime();
                  try {
                    Thread.sleep(100); // the load's pace while the server is away
                  } catch (InterruptedException ie) {
                    return;
                  }
                } catch (Throwable t) {
                  failure = t;
                  return;
                }
              }
            },
            "fault-load");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops the small transactions and waits for the writer. */
  void stop() throws InterruptedException {
    running.set(false);
    if (thread != null) {
      thread.join(60_000);
    }
    if (failure != null) {
      throw new IllegalStateException("the load generator failed", failure);
    }
  }

  long committedTransactions() {
    return committedTransactions.get();
  }

  long reconnects() {
    return reconnects.get();
  }

  private void smallTransaction(Connection c) throws SQLException {
    boolean rollback;
    String key;
    boolean walMessage;
    synchronized (random) {
      rollback = random.nextInt(20) == 0; // 5 % rolled back on purpose
      key = "k" + random.nextInt(32);
      walMessage = random.nextInt(3) == 0;
    }
    // every attempt takes the next number, committed or not: per key, the numbers of what
    // committed only grow, whatever became of an attempt whose outcome is unknown
    long seq = seqs.merge(key, 1L, Long::sum);
    long id = ids.incrementAndGet();
    UUID eventId = UUID.randomUUID();
    List<Entry> pending =
        List.of(
            new Entry("legacy", Long.toString(id), key, seq, null),
            new Entry("outbox", eventId.toString(), key, seq, null));
    try {
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO fi.jobs (id, k, seq, body) VALUES (?, ?, ?, ?)")) {
        ps.setLong(1, id);
        ps.setString(2, key);
        ps.setLong(3, seq);
        ps.setString(4, "row " + id + " " + MARKER);
        ps.executeUpdate();
      }
      (walMessage ? WAL_MESSAGES : OUTBOX)
          .publish(
              c,
              OutboxEvent.builder()
                  .id(eventId)
                  .aggregate("acct", key)
                  .type("Moved")
                  .payload(Map.of("k", key, "seq", seq, "note", MARKER))
                  .build());
    } catch (SQLException | RuntimeException e) {
      // it failed before the commit was sent: the server rolls it back
      for (Entry p : pending) {
        ledger.record(new Entry(p.kind(), p.id(), p.key(), p.seq(), Outcome.ROLLED_BACK));
      }
      throw e instanceof SQLException sql ? sql : new SQLException(e.getMessage(), e);
    }
    if (finish(c, pending, rollback) == Outcome.COMMITTED) {
      committedTransactions.incrementAndGet();
    }
  }

  /**
   * One transaction of {@code rows} legacy rows, inserted by {@code COPY} when {@code copy} (its
   * rows share WAL records) or by one multi-row INSERT otherwise. Returns the ids' range.
   */
  long[] largeTransaction(int rows, boolean copy) throws SQLException {
    return largeTransaction(rows, copy, 0);
  }

  /** As above; each INSERTed row's body padded with {@code padding} characters. */
  long[] largeTransaction(int rows, boolean copy, int padding) throws SQLException {
    long first = ids.addAndGet(rows) - rows + 1;
    List<Entry> pending = new ArrayList<>(rows);
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      if (copy) {
        StringBuilder text = new StringBuilder(rows * 24);
        for (long id = first; id < first + rows; id++) {
          text.append(id).append("\tbig\t").append(id).append("\tcopied ").append(id).append('\n');
          pending.add(new Entry("legacy", Long.toString(id), "big", id, null));
        }
        try {
          c.unwrap(PGConnection.class)
              .getCopyAPI()
              .copyIn(
                  "COPY fi.jobs (id, k, seq, body) FROM STDIN", new StringReader(text.toString()));
        } catch (java.io.IOException e) {
          throw new SQLException("COPY failed: " + e.getMessage(), e);
        }
      } else {
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO fi.jobs (id, k, seq, body) SELECT g, 'big', g, 'inserted ' || g"
                    + " || repeat('x', ?) FROM generate_series(?::bigint, ?::bigint) g")) {
          ps.setInt(1, padding);
          ps.setLong(2, first);
          ps.setLong(3, first + rows - 1);
          ps.executeUpdate();
        }
        for (long id = first; id < first + rows; id++) {
          pending.add(new Entry("legacy", Long.toString(id), "big", id, null));
        }
      }
      finish(c, pending, false);
    }
    return new long[] {first, first + rows - 1};
  }

  private Outcome finish(Connection c, List<Entry> pending, boolean rollback) throws SQLException {
    Outcome outcome;
    SQLException broke = null;
    if (rollback) {
      outcome = Outcome.ROLLED_BACK;
      try {
        c.rollback();
      } catch (SQLException e) {
        broke = e; // rolled back all the same: it never committed
      }
    } else {
      try {
        c.commit();
        outcome = Outcome.COMMITTED;
      } catch (SQLException e) {
        broke = e;
        // an answer to the commit on a live connection is a refusal; a dead connection may have
        // taken the commit with it after the server made it durable
        outcome = usable(c) ? Outcome.ROLLED_BACK : Outcome.UNKNOWN;
      }
    }
    List<Entry> done = new ArrayList<>(pending.size());
    for (Entry e : pending) {
      Entry d = new Entry(e.kind(), e.id(), e.key(), e.seq(), outcome);
      ledger.record(d);
      done.add(d);
    }
    if (broke != null) {
      throw broke;
    }
    if (outcome == Outcome.COMMITTED) {
      // read after the commit returned: the commit record ends at or before this position
      long lsn = insertPosition(c);
      c.commit(); // ends the read's transaction
      for (Entry d : done) {
        ledger.committedBefore(d, lsn);
      }
    }
    return outcome;
  }

  private static long insertPosition(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        java.sql.ResultSet rs =
            s.executeQuery("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static boolean usable(Connection c) {
    try {
      return !c.isClosed() && c.isValid(1);
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    if (thread != null) {
      thread.join(60_000);
    }
  }
}
