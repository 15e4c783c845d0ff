package dev.unpoll.samples.orders;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;

/**
 * What {@link ShipmentHandler} recorded in {@code shipping.handling_log}, counted the way the demo
 * and the migration tests judge a run: no integration row unhandled, none handled twice.
 */
public final class HandlingLog {
  private HandlingLog() {}

  /** How many of {@code integrationIds} have no entry in the handling log. */
  public static long unhandled(Connection c, Collection<Long> integrationIds) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(*) FROM unnest(?::bigint[]) AS p(id) WHERE NOT EXISTS"
                + " (SELECT 1 FROM shipping.handling_log h WHERE h.integration_id = p.id)")) {
      ps.setArray(1, c.createArrayOf("bigint", integrationIds.toArray()));
      return count(ps);
    }
  }

  /** How many integration rows were handled more than once. */
  public static long handledMoreThanOnce(Connection c) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(*) FROM (SELECT integration_id FROM shipping.handling_log"
                + " GROUP BY integration_id HAVING count(*) > 1) d")) {
      return count(ps);
    }
  }

  private static long count(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
