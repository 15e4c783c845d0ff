package dev.unpoll.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.relay.internal.BacklogLedger;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs every {@code sql} block of docs/operations.md, in page order, against a database with the
 * slot, publication and leader election the page names: the runbook's commands must be real.
 */
@ExtendWith(UnpollStackExtension.class)
class OperationsRunbookIT {
  private static final Path RUNBOOK = Path.of("..", "docs", "operations.md");
  private static final Pattern SQL_BLOCK = Pattern.compile("```sql\\n(.*?)```", Pattern.DOTALL);

  private static List<String> sqlBlocks() throws Exception {
    Matcher m = SQL_BLOCK.matcher(Files.readString(RUNBOOK));
    List<String> blocks = new ArrayList<>();
    while (m.find()) {
      blocks.add(m.group(1).trim());
    }
    return blocks;
  }

  @Test
  void everySqlBlockOfTheRunbookRunsAndDoesWhatThePageSays(TestPostgres server) throws Exception {
    TestPostgres db = server.createDatabase("ops_runbook_it");
    AtomicInteger lost = new AtomicInteger();
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        LeaderElection leader =
            LeaderElection.builder()
                .jdbcUrl(db.jdbcUrl())
                .user(db.user())
                .password(db.password())
                .lockName("unpoll-relay-orders")
                .onLeadershipLost(lost::incrementAndGet)
                .build()) {
      s.execute("CREATE TABLE orders (id bigint PRIMARY KEY, status text)");
      s.execute("INSERT INTO orders VALUES (41, 'DONE'), (42, 'NEW')");
      // the consumer's tables live in the legacy table's database during dual-run (the claim)
      IdempotencyStore.defaults().createTablesIfAbsent(db.dataSource());
      new BacklogLedger("unpoll_orders").ensure(c);
      s.execute(
          "INSERT INTO unpoll_relay_backlog_unpoll_orders (schema_name, table_name)"
              + " VALUES ('public', 'orders')");
      s.execute("CREATE PUBLICATION unpoll_orders FOR TABLE orders");
      s.execute("SELECT pg_create_logical_replication_slot('unpoll_orders', 'pgoutput')");
      leader.awaitLeadership();

      List<String> blocks = sqlBlocks();
      assertThat(blocks).hasSizeGreaterThanOrEqualTo(7);
      Map<String, List<String>> firstColumns = new LinkedHashMap<>();
      for (String sql : blocks) {
        List<String> firstColumn = new ArrayList<>();
        if (s.execute(sql)) {
          try (ResultSet rs = s.getResultSet()) {
            while (rs.next()) {
              firstColumn.add(rs.getString(1));
            }
          }
        }
        firstColumns.put(sql, firstColumn);
      }

      // Slots are server-wide: other test classes' slots may be listed too; this page's slot must
      // be among the slots with retained WAL, and not among the invalidated ones.
      assertThat(rowsOf(firstColumns, "AS retained_wal")).contains("unpoll_orders");
      assertThat(rowsOf(firstColumns, "SHOW max_slot_wal_keep_size")).hasSize(1);
      assertThat(rowsOf(firstColumns, "invalidation_reason IS NOT NULL"))
          .doesNotContain("unpoll_orders");
      assertThat(rowsOf(firstColumns, "pg_publication_tables")).containsExactly("public");
      assertThat(rowsOf(firstColumns, "FROM unpoll_relay_backlog_unpoll_orders"))
          .containsExactly("public");
      assertThat(rowsOf(firstColumns, "AS ce_id")).containsExactly("42");
      assertThat(rowsOf(firstColumns, "FROM unpoll_processed")).isEmpty();
      assertThat(rowsOf(firstColumns, "FROM unpoll_shadow_ledger")).isEmpty();
      assertThat(rowsOf(firstColumns, "a.backend_start")).hasSize(1);
      // The drop ran while the slot was inactive; the terminate ended the leader's session.
      try (ResultSet rs =
          s.executeQuery(
              "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'unpoll_orders'")) {
        rs.next();
        assertThat(rs.getInt(1)).isZero();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> lost.get() == 1 && !leader.isLeader());
    }
  }

  private static List<String> rowsOf(Map<String, List<String>> results, String marker) {
    return results.entrySet().stream()
        .filter(e -> e.getKey().contains(marker))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no sql block containing " + marker))
        .getValue();
  }
}
