package dev.unpoll.migration.internal;

import dev.unpoll.contract.TableName;
import java.sql.Connection;

/**
 * What a {@link PhaseStep} looks at when the table rolls back out of its phase.
 *
 * @param connection the connection, auto-commit on, after the rollback was logged
 * @param settings the engine's settings
 * @param table the table
 */
record RollbackContext(Connection connection, Settings settings, TableName table) {}
