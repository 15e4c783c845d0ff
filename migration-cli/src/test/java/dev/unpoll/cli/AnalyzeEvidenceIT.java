package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 16: analyze learns what a real poller uses from the evidence the database holds, not from
 * names. The table's status column is {@code st smallint} (0 new, 1 working, 2 done, 9 failed) and
 * the poller's bookkeeping columns are {@code worker}, {@code taken_at} and {@code tries}: names
 * that say nothing. Before, analyze found no status column and plan wrote no bookkeeping columns.
 */
@ExtendWith(UnpollStackExtension.class)
class AnalyzeEvidenceIT {

  @Test
  void thePollersStatementsAndTheRowsAgesTellTheStatusColumnItsValuesAndTheBookkeeping(
      TestPostgres server) throws Exception {
    TestPostgres db = server.createDatabase("cli_analyze_evidence_it");
    Fixtures.sql(
        db,
        "CREATE EXTENSION pg_stat_statements",
        "CREATE TABLE jobs_q (id bigserial PRIMARY KEY, body text NOT NULL, st smallint NOT NULL"
            + " DEFAULT 0, worker text, taken_at timestamptz, tries int NOT NULL DEFAULT 0,"
            + " created timestamptz NOT NULL DEFAULT now())",
        // handled long ago: done, and a few left failed
        "INSERT INTO jobs_q (body, st, worker, taken_at, tries, created) SELECT 'old ' || g, 2,"
            + " 'w1', now() - interval '1 day', 1, now() - interval '1 day' - g * interval '1 s'"
            + " FROM generate_series(1, 200) g",
        "INSERT INTO jobs_q (body, st, worker, taken_at, tries, created) SELECT 'failed ' || g, 9,"
            + " 'w1', now() - interval '2 days', 3, now() - interval '2 days' - g * interval '1 s'"
            + " FROM generate_series(1, 5) g",
        // new rows, still to do
        "INSERT INTO jobs_q (body) SELECT 'new ' || g FROM generate_series(1, 40) g");
    // the real poller: lock a batch of new rows, mark them taken, then done (or failed)
    try (Connection c = db.connect()) {
      c.setAutoCommit(false);
      for (int round = 0; round < 3; round++) {
        List<Long> ids = new ArrayList<>();
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, body FROM jobs_q WHERE st = ? ORDER BY id LIMIT 2"
                    + " FOR UPDATE SKIP LOCKED")) {
          ps.setInt(1, 0);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              ids.add(rs.getLong(1));
            }
          }
        }
        for (long id : ids) {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE jobs_q SET st = ?, worker = ?, taken_at = now(), tries = tries + 1"
                      + " WHERE id = ?")) {
            ps.setInt(1, round == 2 ? 1 : 2); // the last round is still being worked on
            ps.setString(2, "w2");
            ps.setLong(3, id);
            ps.executeUpdate();
          }
        }
        c.commit();
      }
    }

    Cli.Result r = Cli.run(db, null, "analyze", "--table", "jobs_q", "--json");
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode j = r.json();
    assertThat(j.at("/roles/status/column").asText()).as(r.out()).isEqualTo("st");
    assertThat(j.at("/roles/status/pending").toString()).isEqualTo("[\"0\"]");
    assertThat(j.at("/roles/status/done").toString()).isEqualTo("[\"2\"]");
    assertThat(j.at("/roles/status/inProgress").toString()).isEqualTo("[\"1\"]");
    assertThat(j.at("/roles/status/failed").toString()).isEqualTo("[\"9\"]");
    assertThat(j.at("/roles/bookkeeping").toString())
        .contains("\"st\"", "\"worker\"", "\"taken_at\"", "\"tries\"")
        .doesNotContain("\"body\"");
    // each inference names the evidence it rests on
    assertThat(j.get("notes").toString())
        .contains("the poller's statements filter on it and set it (pg_stat_statements)")
        .contains("FOR UPDATE SKIP LOCKED")
        .contains("values told by the rows' age (created)");
  }
}
