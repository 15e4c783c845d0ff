package dev.unpoll.connect;

import dev.unpoll.mapping.SameLsnTail;
import io.debezium.connector.postgresql.PostgresConnector;
import io.debezium.connector.postgresql.PostgresConnectorTask;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Debezium's PostgreSQL connector whose task never lets Connect commit an offset inside one WAL
 * record: the changes at the end of a poll that share the last one's LSN (a COPY's rows, the two
 * halves of a primary-key update) are returned with a later poll, once a record with another
 * position arrived ({@link SameLsnTail}, the relay's rule). Connect commits the offset of the last
 * record it delivered; Debezium resumes after that LSN, so an offset stored inside such a record
 * would skip the rest of it for good (debezium/dbz#1554). A stop in between leaves the offset
 * before the run, and the restart publishes it again: duplicates of at most one WAL record, never a
 * loss.
 */
public class UnpollPostgresConnector extends PostgresConnector {

  /** Connect creates the connector. */
  public UnpollPostgresConnector() {}

  @Override
  public Class<? extends Task> taskClass() {
    return HoldingTask.class;
  }

  /**
   * The connector's task: Debezium's, with the same-LSN tail of each poll held back, and every
   * change of a same-LSN run but the last one carrying the offset from before the run, so that an
   * offset Connect commits in the middle of a run (a send that failed, a stop within a batch)
   * restarts before the run.
   */
  public static final class HoldingTask extends PostgresConnectorTask {
    private final List<SourceRecord> held = new ArrayList<>();
    private Map<String, ?> previous;

    /** Connect creates the task. */
    public HoldingTask() {}

    @Override
    public List<SourceRecord> doPoll() throws InterruptedException {
      List<SourceRecord> polled = super.doPoll();
      if (held.isEmpty() && (polled == null || polled.isEmpty())) {
        return polled;
      }
      List<SourceRecord> all = new ArrayList<>(held);
      if (polled != null) {
        all.addAll(polled);
      }
      held.clear();
      int tail = SameLsnTail.start(all);
      held.addAll(all.subList(tail, all.size()));
      return safeOffsets(all.subList(0, tail));
    }

    private List<SourceRecord> safeOffsets(List<SourceRecord> records) {
      List<SourceRecord> out = new ArrayList<>(records.size());
      int i = 0;
      while (i < records.size()) {
        Object lsn = SameLsnTail.sharedLsn(records.get(i));
        int end = i + 1;
        while (lsn != null
            && end < records.size()
            && lsn.equals(SameLsnTail.sharedLsn(records.get(end)))) {
          end++;
        }
        Map<String, ?> before = end - i > 1 ? before(records.get(i)) : null;
        for (int k = i; k < end - 1; k++) {
          out.add(before == null ? records.get(k) : withOffset(records.get(k), before));
        }
        out.add(records.get(end - 1));
        previous = records.get(end - 1).sourceOffset();
        i = end;
      }
      return out;
    }

    /** The offset before {@code first}: the last one returned, else the one the task started at. */
    private Map<String, ?> before(SourceRecord first) {
      if (previous != null) {
        return previous;
      }
      return context.offsetStorageReader().offset(first.sourcePartition());
    }

    private static SourceRecord withOffset(SourceRecord r, Map<String, ?> offset) {
      return new SourceRecord(
          r.sourcePartition(),
          offset,
          r.topic(),
          r.kafkaPartition(),
          r.keySchema(),
          r.key(),
          r.valueSchema(),
          r.value(),
          r.timestamp(),
          r.headers());
    }
  }
}
