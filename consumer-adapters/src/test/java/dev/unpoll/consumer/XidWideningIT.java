package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The claim widens the relay's 32-bit {@code unpoll_txid} to PostgreSQL's 64-bit {@code xid8}
 * against a snapshot. Snapshots of a cluster past its first xid epoch cannot be made on a fresh
 * test server, so they are given as {@code pg_snapshot} literals; PostgreSQL evaluates the real
 * expression the claim runs.
 */
@ExtendWith(UnpollStackExtension.class)
class XidWideningIT {
  static final long EPOCH = 1L << 32;
  static DataSource ds;

  @BeforeAll
  static void database(TestPostgres server) {
    ds = server.createDatabase("consumer_xid_widening_it").dataSource();
  }

  /** {xid8 as text, visible in the snapshot} for a raw xid against a snapshot literal. */
  static String[] widen(long raw, String snapshot) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "WITH p AS (SELECT ?::bigint AS raw, ?::pg_snapshot AS snap),"
                    + " x AS (SELECT snap, "
                    + DualRunClaim.widenedXid("raw", "snap")
                    + " AS xid FROM p) SELECT xid::text, pg_visible_in_snapshot(xid, snap) FROM x")) {
      ps.setLong(1, raw);
      ps.setString(2, snapshot);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new String[] {rs.getString(1), Boolean.toString(rs.getBoolean(2))};
      }
    }
  }

  @Test
  void aTransactionDecodedButNotYetCompletedStaysInTheCurrentEpochAndIsNotVisible()
      throws Exception {
    // epoch 1; xid 999 is the oldest still running, so xmax = xmin = 2^32 + 999. Transaction
    // 1000 committed its WAL record (the relay decoded it) but has not left the proc array yet.
    String snapshot = (EPOCH + 999) + ":" + (EPOCH + 999) + ":";
    assertThat(widen(1000, snapshot))
        .as("not visible yet, not a transaction of the previous epoch that would look deleted")
        .containsExactly(Long.toString(EPOCH + 1000), "false");
    assertThat(widen(999, snapshot)).containsExactly(Long.toString(EPOCH + 999), "false");
    assertThat(widen(998, snapshot)).containsExactly(Long.toString(EPOCH + 998), "true");
  }

  @Test
  void xidsAroundAnEpochBoundaryKeepTheirEpoch() throws Exception {
    // xmax just past the boundary: low 32 bits 4
    String snapshot = (EPOCH + 4) + ":" + (EPOCH + 4) + ":";
    assertThat(widen(4294967290L, snapshot)).containsExactly("4294967290", "true");
    assertThat(widen(5, snapshot)).containsExactly(Long.toString(EPOCH + 5), "false");
    // epoch 0, far from the boundary; a 64-bit value passes through unchanged
    assertThat(widen(1001, "1000:1000:")).containsExactly("1001", "false");
    assertThat(widen(42, "1000:1000:")).containsExactly("42", "true");
    assertThat(widen(EPOCH + 7, "1000:1000:")).containsExactly(Long.toString(EPOCH + 7), "false");
  }
}
