package dev.unpoll.outbox.internal;

import java.sql.Connection;
import java.sql.SQLException;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.datasource.ConnectionProxy;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Whether a JDBC connection belongs to the Spring-managed transaction active on this thread. Spring
 * is optional: without spring-tx and spring-jdbc on the class path no connection is Spring's, and
 * no Spring class is loaded.
 */
public final class SpringTransactions {
  private static final boolean PRESENT =
      present("org.springframework.transaction.support.TransactionSynchronizationManager")
          && present("org.springframework.jdbc.datasource.ConnectionHolder")
          && present("org.springframework.jdbc.datasource.ConnectionProxy");

  private SpringTransactions() {}

  /** True if {@code connection} is the connection of an active Spring transaction. */
  public static boolean bound(Connection connection) {
    return PRESENT && Bound.check(connection);
  }

  private static boolean present(String className) {
    try {
      Class.forName(className, false, SpringTransactions.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** Touches Spring's classes; loaded only when they are present. */
  private static final class Bound {
    static boolean check(Connection connection) {
      if (!TransactionSynchronizationManager.isActualTransactionActive()) {
        return false;
      }
      Connection target = unwrap(connection);
      for (Object resource : TransactionSynchronizationManager.getResourceMap().values()) {
        if (resource instanceof ConnectionHolder holder) {
          Connection held;
          try {
            held = holder.getConnection();
          } catch (IllegalStateException noConnectionYet) {
            continue;
          }
          if (held == connection || unwrap(held) == target) {
            return true;
          }
        }
      }
      return false;
    }

    /** The driver's connection behind pool and Spring proxies, or the connection itself. */
    private static Connection unwrap(Connection c) {
      try {
        // TransactionAwareDataSourceProxy's connections unwrap to themselves; ask for the target
        Connection target = c instanceof ConnectionProxy p ? p.getTargetConnection() : c;
        return target.unwrap(Connection.class);
      } catch (SQLException | RuntimeException e) {
        return c;
      }
    }
  }
}
