/**
 * The Kafka Connect plugin: {@link dev.unpoll.connect.UnpollEventRouter}, the relay's mapping as a
 * transformation beside Debezium's PostgreSQL connector (docs/kafka-connect.md).
 */
package dev.unpoll.connect;
