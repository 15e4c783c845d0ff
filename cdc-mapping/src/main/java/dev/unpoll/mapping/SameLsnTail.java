package dev.unpoll.mapping;

import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Where a stored offset may not go yet. One WAL record can reach the capture as several changes
 * that share its LSN: a COPY writes one multi-insert record per heap page (up to ~290 rows), and an
 * update that changes the primary key becomes a delete and an insert. Debezium 3.6's pgoutput
 * reader marks each change completely processed ({@code lsn_proc}), and on restart resumes after
 * the stored LSN, so an offset stored at the first of them skips the others: lost
 * (debezium/dbz#1554). Both runtimes therefore hold back the changes at the end of a batch that
 * share the last one's LSN until a record with another position arrives (the next change, or a
 * heartbeat): the relay by not marking them processed, the Connect task by not returning them yet.
 * Snapshot records and records at a commit are never held: nothing later can share their position.
 */
public final class SameLsnTail {
  private SameLsnTail() {}

  /** Index of the first record of the trailing run that must not be stored (or returned) yet. */
  public static int start(List<SourceRecord> records) {
    int n = records.size();
    if (n == 0) {
      return 0;
    }
    Object last = sharedLsn(records.get(n - 1));
    if (last == null) {
      return n;
    }
    int i = n - 1;
    while (i > 0 && last.equals(sharedLsn(records.get(i - 1)))) {
      i--;
    }
    return i;
  }

  /**
   * The LSN a restart resumes after if this record's offset is stored ({@code lsn_proc}, else
   * {@code lsn}) when the record is a streamed change, which later changes may share; else null.
   */
  public static Object sharedLsn(SourceRecord r) {
    Map<String, ?> offset = r.sourceOffset();
    Object type = offset == null ? null : offset.get("messageType");
    if (type == null || offset.containsKey("snapshot") || "COMMIT".equals(type)) {
      return null;
    }
    Object lsn = offset.get("lsn_proc");
    return lsn != null ? lsn : offset.get("lsn");
  }
}
