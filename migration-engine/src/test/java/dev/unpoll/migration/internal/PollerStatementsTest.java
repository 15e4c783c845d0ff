package dev.unpoll.migration.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.contract.TableName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PollerStatementsTest {

  @Test
  void aLockingReadAndAnUpdateGiveTheStatusColumnAndTheBookkeeping() {
    Map<String, Long> texts = new LinkedHashMap<>();
    texts.put(
        "SELECT id, body FROM jobs_q WHERE st = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
        900L);
    texts.put(
        "UPDATE jobs_q SET st = $1, worker = $2, taken_at = now(), tries = tries + $3 WHERE id = $4",
        850L);
    texts.put("UPDATE other_table SET flag = $1 WHERE id = $2", 10L); // another table
    texts.put("SELECT count(*) FROM jobs_q", 3L); // not the poller's: no lock, no update
    PollerStatements p = PollerStatements.parse(texts, TableName.parse("jobs_q"));
    assertThat(p.statusColumn(List.of("id"))).contains("st");
    assertThat(p.set()).containsExactly("st", "worker", "taken_at", "tries");
    assertThat(p.statements()).hasSize(2);
  }

  @Test
  void theClaimingUpdateWithALockingSubselectAndQuotedQualifiedNames() {
    Map<String, Long> texts =
        Map.of(
            "UPDATE \"Ops\".\"Job Queue\" SET \"State\" = $1, locked_by = $2 WHERE id IN (SELECT id"
                + " FROM \"Ops\".\"Job Queue\" WHERE \"State\" = $3 LIMIT $4 FOR UPDATE SKIP LOCKED)"
                + " RETURNING id",
            5L);
    PollerStatements p = PollerStatements.parse(texts, new TableName("Ops", "Job Queue"));
    assertThat(p.statusColumn(List.of("id"))).contains("State");
    assertThat(p.set()).containsExactly("State", "locked_by");
    // the same text does not speak for a table of another schema
    assertThat(PollerStatements.parse(texts, new TableName("public", "Job Queue")).statements())
        .isEmpty();
  }
}
