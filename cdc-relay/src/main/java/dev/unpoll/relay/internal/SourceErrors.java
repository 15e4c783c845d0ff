package dev.unpoll.relay.internal;

import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.UnpollConfig;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Set;

/**
 * Tells errors of the source database that no retry can fix from transient ones. Debezium's
 * PostgreSQL error handler treats every {@link SQLException} as a communication problem and, with
 * {@code errors.max.retries} at its default of -1, restarts the task without end ("Retry N of
 * unlimited retries"). That is right for a cut connection, a restarting server or a slot still held
 * by another walsender, and wrong for an error the server will give again on every retry, such as a
 * change the slot cannot decode because its publication did not exist yet.
 *
 * <p>Non-transient: SQLSTATE classes {@value #NON_TRANSIENT_CLASSES_DOC}. Everything else (08
 * connection, 53 resources, 55 object in use, 57 operator intervention, 58 and XX server errors,
 * I/O errors, errors without a SQLSTATE) is retried as before.
 */
public final class SourceErrors {

  static final String NON_TRANSIENT_CLASSES_DOC =
      "0A (feature not supported), 22 (data exception), 28 (invalid authorization), 3D (invalid"
          + " database), 3F (invalid schema), 42 (undefined object, insufficient privilege)";

  private static final Set<String> NON_TRANSIENT_CLASSES =
      Set.of("0A", "22", "28", "3D", "3F", "42");

  /** {@code undefined_object}: pgoutput's {@code publication "..." does not exist}. */
  private static final String UNDEFINED_OBJECT = "42704";

  private SourceErrors() {}

  /** The non-transient database error in {@code error}'s causes, if there is one. */
  public static Optional<SQLException> nonTransient(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SQLException s) {
        String state = s.getSQLState();
        return state != null
                && state.length() == 5
                && NON_TRANSIENT_CLASSES.contains(state.substring(0, 2))
            ? Optional.of(s)
            : Optional.empty();
      }
    }
    return Optional.empty();
  }

  /** Whether {@code e} is pgoutput's error for a publication missing as of a decoded change. */
  public static boolean missingPublication(SQLException e) {
    return UNDEFINED_OBJECT.equals(e.getSQLState())
        && e.getMessage() != null
        && e.getMessage().contains("publication");
  }

  /** What happened and what to do, for the relay's log and exit message. */
  public static String explain(SQLException e, UnpollConfig config) {
    String slot = config.source().slot();
    String pub = config.source().publication();
    String server = oneLine(e.getMessage()) + " (SQLSTATE " + e.getSQLState() + ")";
    if (missingPublication(e)) {
      return "replication slot "
          + slot
          + " cannot be decoded: PostgreSQL looks publication "
          + pub
          + " up as of each decoded change, and it did not exist yet for a change the slot still"
          + " holds (the slot was created before the publication, or the publication was dropped"
          + " and created again). Every retry fails the same way, so the relay stops. Fix: check"
          + " which rows the gap holds (unpoll verify), then drop the slot (SELECT"
          + " pg_drop_replication_slot('"
          + slot
          + "');) and this relay's offsets (DROP TABLE "
          + TableName.quote(PreFlight.offsetTable(config))
          + "), make sure publication "
          + pub
          + " exists and covers the tables, and start the relay (it creates the slot after the"
          + " publication; unpoll capture does the same). PostgreSQL said: "
          + server;
    }
    return "the source database refused the relay with an error no retry can fix, so the relay"
        + " stops instead of retrying without end. Fix the cause (privileges of "
        + config.source().user()
        + ", the publication "
        + pub
        + ", the slot "
        + slot
        + ") and start the relay again; it resumes from its last offset. PostgreSQL said: "
        + server;
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.replaceAll("\\s*\\R\\s*", "; ");
  }
}
