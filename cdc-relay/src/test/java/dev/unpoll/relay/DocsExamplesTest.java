package dev.unpoll.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.contract.config.UnpollConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DocsExamplesTest {

  @Test
  void everyYamlExampleOfTheRelayPageIsAValidConfiguration() throws Exception {
    String page = Files.readString(Path.of("../docs/relay.md"));
    List<String> blocks = new ArrayList<>();
    int at = 0;
    while ((at = page.indexOf("```yaml\n", at)) >= 0) {
      int end = page.indexOf("```", at + 8);
      blocks.add(page.substring(at + 8, end));
      at = end + 3;
    }
    assertThat(blocks).hasSize(2);
    UnpollConfig legacy = UnpollConfig.parse(blocks.get(0), Map.of("UNPOLL_DB_PASSWORD", "x"));
    assertThat(legacy.tables().get(0).backlog()).isTrue();
    UnpollConfig outbox = UnpollConfig.parse(blocks.get(1), Map.of());
    assertThat(outbox.outbox().orElseThrow().table()).isEmpty();
    assertThat(outbox.offsets().store()).isEqualTo(UnpollConfig.OffsetStore.FILE);
    assertThat(outbox.source().password()).isEqualTo("postgres");
  }
}
