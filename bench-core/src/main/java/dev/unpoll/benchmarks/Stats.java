package dev.unpoll.benchmarks;

import java.util.ArrayList;
import java.util.List;

/** Median and spread of per-round (or per-fork) figures, as every harness here reports them. */
final class Stats {
  private Stats() {}

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** The smallest value, NaN if there is none. */
  static double min(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
  }

  /** The largest value, NaN if there is none. */
  static double max(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }
}
