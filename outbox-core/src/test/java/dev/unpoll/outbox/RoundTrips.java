package dev.unpoll.outbox;

import java.text.MessageFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Round trips some work makes on this thread, from pgjdbc's protocol log: in its default (extended)
 * query mode pgjdbc ends each request with one Sync and then waits for the answer. (Not
 * ReadyForQuery: the BEGIN pgjdbc sends in front of a transaction's first statement gets one of its
 * own in the same round trip.) Every message is kept, for failure messages.
 *
 * @param count the Syncs sent
 * @param protocol every protocol message pgjdbc logged, in order
 */
public record RoundTrips(int count, List<String> protocol) {
  /** Runs {@code work} on this thread and counts its round trips. */
  public static RoundTrips of(Runnable work) {
    Logger pgjdbc = Logger.getLogger("org.postgresql.core.v3.QueryExecutorImpl");
    long thread = Thread.currentThread().getId();
    AtomicInteger trips = new AtomicInteger();
    List<String> protocol = new CopyOnWriteArrayList<>();
    Handler counter =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            if (r.getLongThreadID() != thread || r.getMessage() == null) {
              return;
            }
            String m =
                r.getParameters() == null
                    ? r.getMessage()
                    : MessageFormat.format(r.getMessage(), r.getParameters());
            protocol.add(m.strip());
            if (m.equals(" FE=> Sync")) {
              trips.incrementAndGet();
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Level level = pgjdbc.getLevel();
    boolean parents = pgjdbc.getUseParentHandlers();
    counter.setLevel(Level.ALL);
    pgjdbc.addHandler(counter);
    pgjdbc.setUseParentHandlers(false);
    pgjdbc.setLevel(Level.FINEST);
    try {
      work.run();
    } finally {
      pgjdbc.setLevel(level);
      pgjdbc.setUseParentHandlers(parents);
      pgjdbc.removeHandler(counter);
    }
    return new RoundTrips(trips.get(), List.copyOf(protocol));
  }
}
