/**
 * The mapping of Debezium PostgreSQL change records to unpoll's events (topic, key, value,
 * CloudEvents headers), shared by the relay and the Kafka Connect transformation so both publish
 * byte-identical records.
 */
package dev.unpoll.mapping;
