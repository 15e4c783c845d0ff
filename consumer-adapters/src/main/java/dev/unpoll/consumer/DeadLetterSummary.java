package dev.unpoll.consumer;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * The dead letters of one exception class: how many, when the first and the last were written, and
 * a few of their positions to {@code show}.
 *
 * @param exceptionClass fully qualified class name of the failure
 * @param count how many records
 * @param first time of the earliest record
 * @param last time of the latest record
 * @param consumerGroups the groups that gave up on them
 * @param originalTopics the topics they failed on
 * @param examples up to {@link DeadLetterTopic#EXAMPLES} positions ({@code partition:offset}),
 *     oldest first
 */
public record DeadLetterSummary(
    String exceptionClass,
    long count,
    Instant first,
    Instant last,
    Set<String> consumerGroups,
    Set<String> originalTopics,
    List<String> examples) {
  /** Copies the collections. */
  public DeadLetterSummary {
    consumerGroups = Set.copyOf(consumerGroups);
    originalTopics = Set.copyOf(originalTopics);
    examples = List.copyOf(examples);
  }
}
