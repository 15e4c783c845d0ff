/**
 * Transactional outbox writer: {@link dev.unpoll.outbox.Outbox} writes {@link
 * dev.unpoll.outbox.OutboxEvent}s in the caller's transaction, as rows of the outbox table or as
 * PostgreSQL logical-decoding messages ({@link dev.unpoll.outbox.OutboxStrategy}).
 */
package dev.unpoll.outbox;
