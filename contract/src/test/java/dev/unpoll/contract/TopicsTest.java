package dev.unpoll.contract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TopicsTest {
  @Test
  void deadLetterTopicIsTheTopicWithDotDlt() {
    // golden: consumers already in production write here; changing it loses dead letters
    assertThat(Topics.deadLetterTopic("orders")).isEqualTo("orders.DLT");
  }
}
