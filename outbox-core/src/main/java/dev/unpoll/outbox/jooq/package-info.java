/** jOOQ integration: {@link dev.unpoll.outbox.jooq.JooqOutbox}. */
package dev.unpoll.outbox.jooq;
