package dev.unpoll.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.OrderTransactions.Variant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The O1 ratios from made-up per-fork figures: which variant divides which. */
class OutboxRatiosTest {

  private static OutboxRatios.Fork fork(Map<Variant, Double> meanNanos) {
    Map<Variant, Double> all = new EnumMap<>(Variant.class);
    for (Variant v : Variant.values()) {
      all.put(v, meanNanos.getOrDefault(v, 1000.0));
    }
    return new OutboxRatios.Fork(all, all, all);
  }

  private static Measure find(List<Measure> measures, String id) {
    return measures.stream().filter(m -> m.id().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void legacyAndPeerRatiosAreThroughputRatiosAgainstTheRightBaseline() {
    // In this fork WAL_MESSAGE_COMMIT is our faster strategy, namastack the fastest peer.
    OutboxRatios.Fork f =
        fork(
            Map.of(
                Variant.NONE, 400.0,
                Variant.LEGACY_ROW, 500.0,
                Variant.TABLE_COMMIT, 550.0,
                Variant.WAL_MESSAGE_COMMIT, 450.0,
                Variant.PEER_GRUELBOX, 900.0,
                Variant.PEER_MODULITH, 1800.0,
                Variant.PEER_NAMASTACK, 600.0));

    List<Measure> measures = OutboxRatios.measures(List.of(f));

    Measure tableVsLegacy = find(measures, "O1.legacy.table_commit");
    assertThat(tableVsLegacy.ratio().median()).isCloseTo(500.0 / 550.0, within(1e-9));
    assertThat(tableVsLegacy.met()).isFalse();
    assertThat(tableVsLegacy.goal()).isEqualTo("≥ 1.0");
    Measure walVsLegacy = find(measures, "O1.legacy.wal_message_commit");
    assertThat(walVsLegacy.ratio().median()).isCloseTo(500.0 / 450.0, within(1e-9));
    assertThat(walVsLegacy.met()).isTrue();
    assertThat(walVsLegacy.goal()).isEqualTo("≥ 1.05");
    assertThat(find(measures, "O1").ratio()).isEqualTo(tableVsLegacy.ratio());

    assertThat(find(measures, "O1.peer.gruelbox").ratio().median())
        .isCloseTo(900.0 / 450.0, within(1e-9));
    assertThat(find(measures, "O1.peer.modulith").ratio().median())
        .isCloseTo(1800.0 / 450.0, within(1e-9));
    Measure peer = find(measures, "O1.peer");
    assertThat(peer.ratio().median()).isCloseTo(600.0 / 450.0, within(1e-9));
    assertThat(peer.value()).isCloseTo(1e9 / 450.0, within(1e-6));
    assertThat(peer.baseline()).isCloseTo(1e9 / 600.0, within(1e-6));
    assertThat(peer.met()).isTrue();

    assertThat(find(measures, "O1.bare.table_commit").ratio().median())
        .isCloseTo(400.0 / 550.0, within(1e-9));
    assertThat(find(measures, "O1.bare.table_commit").goal()).isEqualTo("≥ 0.95");
  }

  @Test
  void theMedianIsTakenOverForks() {
    List<OutboxRatios.Fork> forks =
        List.of(
            fork(Map.of(Variant.LEGACY_ROW, 500.0, Variant.TABLE_COMMIT, 500.0)),
            fork(Map.of(Variant.LEGACY_ROW, 500.0, Variant.TABLE_COMMIT, 400.0)),
            fork(Map.of(Variant.LEGACY_ROW, 500.0, Variant.TABLE_COMMIT, 1000.0)));

    Measure m = find(OutboxRatios.measures(forks), "O1.legacy.table_commit");

    assertThat(m.ratio().median()).isCloseTo(1.0, within(1e-9));
    assertThat(m.ratio().min()).isCloseTo(0.5, within(1e-9));
    assertThat(m.ratio().max()).isCloseTo(1.25, within(1e-9));
    assertThat(m.met()).isTrue();
  }
}
