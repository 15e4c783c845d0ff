package dev.unpoll.cli.internal.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.migration.Gate;
import dev.unpoll.migration.GateFigures;
import dev.unpoll.migration.Reconciliation;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The figures of a gate print as the phase commands printed them when they were a map: the same
 * keys, in the order documented in docs/cli.md, and the same values.
 */
class GateViewTest {
  @Test
  void eventsCompleteFiguresKeepTheirKeysOrderAndValues() {
    Gate g =
        new Gate(
            "events-complete",
            false,
            "1 of 2 row(s) in the window have no event",
            new GateFigures.EventsComplete(2, 1, 0, List.of("public.t:[1]"), true, "s", "active"));
    assertThat(GateView.json(g).toString())
        .isEqualTo(
            "{\"name\":\"events-complete\",\"passed\":false,"
                + "\"detail\":\"1 of 2 row(s) in the window have no event\","
                + "\"figures\":{\"rows\":2,\"missing\":1,\"duplicated\":0,"
                + "\"missingKeys\":[\"public.t:[1]\"],\"topicFound\":true,\"slot\":\"s\","
                + "\"slotState\":\"active\"}}");
    assertThat(GateView.textLines(g))
        .containsExactly(
            "rows = 2",
            "missing = 1",
            "duplicated = 0",
            "missingKeys = [\"public.t:[1]\"]",
            "topicFound = true",
            "slot = s",
            "slotState = active");
  }

  @Test
  void backlogKeysAndPrimaryKeyPrintAsLists() {
    Gate backlog =
        new Gate(
            "backlog-empty",
            false,
            "d",
            new GateFigures.BacklogEmpty(2, List.of("public.t:[1]", "public.t:[2]")));
    assertThat(GateView.textLines(backlog))
        .containsExactly("backlog = 2", "backlogKeys = [public.t:[1], public.t:[2]]");
    assertThat(GateView.json(backlog).get("figures").toString())
        .isEqualTo("{\"backlog\":2,\"backlogKeys\":[\"public.t:[1]\",\"public.t:[2]\"]}");
    Gate identity =
        new Gate(
            "replica-identity", false, "d", new GateFigures.ReplicaIdentity("nothing", List.of()));
    assertThat(GateView.textLines(identity))
        .containsExactly("replicaIdentity = nothing", "primaryKey = []");
  }

  @Test
  void latencyFiguresAreThePercentileObjects() {
    Gate g =
        new Gate(
            "latency",
            true,
            "d",
            new GateFigures.Latency(
                new Reconciliation.Latency(2, 10L, 20L, 20L),
                new Reconciliation.Latency(0, null, null, null)));
    assertThat(GateView.json(g).get("figures").toString())
        .isEqualTo(
            "{\"poller\":{\"count\":2,\"p50Ms\":10,\"p95Ms\":20,\"p99Ms\":20},"
                + "\"event\":{\"count\":0,\"p50Ms\":null,\"p95Ms\":null,\"p99Ms\":null}}");
  }
}
