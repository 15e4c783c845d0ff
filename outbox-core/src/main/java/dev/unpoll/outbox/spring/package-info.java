/** Spring transaction integration: {@link dev.unpoll.outbox.spring.SpringOutbox}. */
package dev.unpoll.outbox.spring;
