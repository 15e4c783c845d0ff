/**
 * Spring Boot auto-configuration of unpoll: the outbox writer on the application's {@code
 * DataSource} and transaction manager, the idempotent consumer with its store and retry policy, the
 * idempotent listener container factory, Micrometer meters and health contributors. Every setting
 * is under {@code unpoll.*}: {@link dev.unpoll.spring.boot.UnpollOutboxProperties} and {@link
 * dev.unpoll.spring.boot.UnpollConsumerProperties}.
 */
package dev.unpoll.spring.boot;
