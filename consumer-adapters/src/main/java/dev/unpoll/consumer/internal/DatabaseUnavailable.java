package dev.unpoll.consumer.internal;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.Set;

/**
 * Tells a failure caused by the consumer's own database being away (restarting, crashed, failing
 * over, refusing connections while it recovers) from a failure of the event. The first says nothing
 * about the event: dead-lettering it would park good events by the hundred during an outage, and
 * skipping it (no dead-letter topic) would lose their effect. Such a failure is retried until the
 * database is back.
 */
public final class DatabaseUnavailable {
  /**
   * SQLSTATEs of a server that is going or not there yet: admin_shutdown, crash_shutdown,
   * cannot_connect_now (starting up, recovering); class 08 (connection exceptions) is matched by
   * its prefix.
   */
  private static final Set<String> STATES = Set.of("57P01", "57P02", "57P03");

  private DatabaseUnavailable() {}

  /** True when {@code failure} or one of its causes says the database could not be reached. */
  public static boolean is(Throwable failure) {
    int depth = 0;
    for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
      if (t instanceof SQLTransientConnectionException
          || t instanceof SQLNonTransientConnectionException) {
        return true;
      }
      if (t instanceof SQLException e) {
        String state = e.getSQLState();
        if (state != null && (state.startsWith("08") || STATES.contains(state))) {
          return true;
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}
