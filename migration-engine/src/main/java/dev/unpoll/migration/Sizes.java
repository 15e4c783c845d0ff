package dev.unpoll.migration;

import java.util.Locale;

/** Byte counts as unpoll prints them: 512 B, 1.5 kB, 3.2 GB. */
public final class Sizes {
  private static final String[] UNITS = {"B", "kB", "MB", "GB", "TB"};

  private Sizes() {}

  /** Human-readable bytes (binary multiples); {@code n/a} for null. */
  public static String bytes(Long b) {
    if (b == null) {
      return "n/a";
    }
    double v = b;
    int u = 0;
    while (v >= 1024 && u < UNITS.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, UNITS[u]);
  }
}
