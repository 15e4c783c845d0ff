package dev.unpoll.relay.internal;

import dev.unpoll.relay.ops.LeaderElection;
import io.debezium.storage.jdbc.offset.JdbcOffsetBackingStore;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HA: Debezium's JDBC offset store whose writes are fenced by the leadership. Each write (the
 * store's {@code DELETE} and {@code INSERT}s, in Debezium's table layout) runs in one transaction
 * on the {@link LeaderElection}'s own session, the one that holds the advisory lock, so it commits
 * only while this replica leads ({@link LeaderElection#runFenced}). A leader frozen until the
 * standby took over, then thawed, would otherwise store its older position over the new leader's
 * before noticing that it lost the lock: the next start would publish the changes in between again,
 * or find the slot ahead of the offsets. Reads and the table's creation stay Debezium's.
 */
public final class FencedOffsetStore extends JdbcOffsetBackingStore {
  /** Engine property naming the registered election of this relay. */
  static final String FENCE = "offset.storage.unpoll.fence";

  private static final String TABLE = "offset.storage.jdbc.table.name";
  private static final Logger LOG = LoggerFactory.getLogger(FencedOffsetStore.class);
  private static final Map<String, LeaderElection> FENCES = new ConcurrentHashMap<>();

  private final AtomicInteger insertSeq = new AtomicInteger();
  private volatile LeaderElection election;
  private volatile String table;
  private volatile boolean refusedLogged;

  /** Used by the engine (reflection). */
  public FencedOffsetStore() {}

  /**
   * Makes the engine {@code properties} (a JDBC offset store) store offsets through {@code
   * election}; returns the key to pass to {@link #release(String)} once the engine stopped.
   */
  public static String fence(Properties properties, LeaderElection election) {
    String key = UUID.randomUUID().toString();
    FENCES.put(key, election);
    properties.setProperty("offset.storage", FencedOffsetStore.class.getName());
    properties.setProperty(FENCE, key);
    return key;
  }

  /** Forgets a key of {@link #fence(Properties, LeaderElection)}. */
  public static void release(String key) {
    if (key != null) {
      FENCES.remove(key);
    }
  }

  @Override
  public void configure(WorkerConfig config) {
    super.configure(config);
    Map<String, String> p = config.originalsStrings();
    table = p.get(TABLE);
    election = FENCES.get(p.get(FENCE));
    if (election == null || table == null) {
      throw new IllegalStateException(
          "fenced offset store without its leader election (" + FENCE + ") or " + TABLE);
    }
  }

  @Override
  protected void save() {
    try {
      election.runFenced(
          c -> {
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM " + table)) {
              delete.executeUpdate();
            }
            try (PreparedStatement insert =
                c.prepareStatement(
                    "INSERT INTO "
                        + table
                        + " (id, offset_key, offset_val, record_insert_ts, record_insert_seq)"
                        + " VALUES (?, ?, ?, ?, ?)")) {
              Timestamp now = new Timestamp(System.currentTimeMillis());
              for (Map.Entry<String, String> e : data.entrySet()) {
                insert.setString(1, UUID.randomUUID().toString());
                insert.setString(2, e.getKey());
                insert.setString(3, e.getValue());
                insert.setTimestamp(4, now);
                insert.setInt(5, insertSeq.incrementAndGet());
                insert.executeUpdate();
              }
            }
          });
    } catch (SQLException e) {
      if (!refusedLogged) {
        refusedLogged = true;
        LOG.warn(
            "HA: offsets not stored through the session of leader lock '{}': {}. Only the"
                + " lock's holder stores offsets, so a replica that lost the lock cannot put an"
                + " older position over the new leader's; this replica stops streaming",
            election.lockName(),
            e.getMessage());
      }
      throw new ConnectException("offsets not stored: not the leader (" + e.getMessage() + ")", e);
    }
  }
}
