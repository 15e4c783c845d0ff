package dev.unpoll.migration;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What {@code unpoll doctor} finds: the change-data-capture prerequisites of the database (and of
 * Kafka, when given), each passing, warning or failing with the fix.
 *
 * @param checks the checks, in the order they ran
 */
public record DoctorReport(List<Check> checks) {
  /** Copies the list. */
  public DoctorReport {
    checks = List.copyOf(checks);
  }

  /** How a check came out. */
  public enum Status {
    /** Holds. */
    PASS,
    /** Holds, with a risk worth fixing. */
    WARN,
    /** Does not hold: capture or the relay fails. */
    FAIL;

    /** The lower-case form used in JSON. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One check.
   *
   * @param name what is checked ({@code wal_level}, {@code slot}, {@code ownership <table>}, ...)
   * @param status how it came out
   * @param detail what was found
   * @param fix what fixes it (often SQL), or null when nothing needs fixing
   */
  public record Check(String name, Status status, String detail, String fix) {
    /** Checks the parts. */
    public Check {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(status, "status");
    }
  }

  /** How many checks came out with {@code status}. */
  public long count(Status status) {
    return checks.stream().filter(c -> c.status() == status).count();
  }

  /** Whether no check failed. */
  public boolean ok() {
    return count(Status.FAIL) == 0;
  }
}
