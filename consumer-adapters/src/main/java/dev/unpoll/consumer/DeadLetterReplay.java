package dev.unpoll.consumer;

/**
 * One record {@link DeadLetterTopic#replay} republished (or, in a dry run, would have).
 *
 * @param from the dead letter's position, {@code <dlt>:<partition>:<offset>} (the value of {@link
 *     DeadLetterHeaders#REPLAYED_FROM})
 * @param topic the original topic it was sent to
 * @param partition the partition the broker acknowledged, -1 in a dry run
 * @param offset the offset the broker acknowledged, -1 in a dry run
 * @param key the record key as UTF-8 text, or null
 * @param idempotencyKey the record's {@code ce_id}, or null when it has none
 * @param dryRun whether nothing was sent
 */
public record DeadLetterReplay(
    String from,
    String topic,
    int partition,
    long offset,
    String key,
    String idempotencyKey,
    boolean dryRun) {}
