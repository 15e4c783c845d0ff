package dev.unpoll.benchmarks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The L1 latency plot: per arm, the distribution of commit → handled latency as a cumulative
 * distribution (share of rows handled within x ms) on a logarithmic x-axis, written as a PNG with
 * XChart.
 */
final class LatencyPlot {
  /** Points drawn per series: enough for a smooth curve, few enough for a small file. */
  private static final int POINTS = 400;

  private static final Color[] COLORS = {
    new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728)
  };
  private static final BasicStroke[] LINES = {
    SeriesLines.SOLID, SeriesLines.DASH_DASH, SeriesLines.DOT_DOT, SeriesLines.DASH_DOT
  };

  private LatencyPlot() {}

  /**
   * One curve: its legend, latencies in microseconds (any order), the arm (its color) and the rate
   * (its line style), each an index.
   */
  record Curve(String name, long[] micros, int arm, int rate) {}

  /**
   * Writes the plot of {@code curves} to {@code file} (a {@code .png}): one color per arm, one line
   * style per rate.
   */
  static void write(Path file, String title, List<Curve> curves) throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(1000)
            .height(600)
            .title(title)
            .xAxisTitle("commit → handled (ms, log scale)")
            .yAxisTitle("share of rows handled")
            .build();
    chart.getStyler().setXAxisLogarithmic(true);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setYAxisMax(1.0);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    chart.getStyler().setMarkerSize(0);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setYAxisDecimalPattern("0.0");
    chart.getStyler().setYAxisTickMarkSpacingHint(60);
    for (Curve c : curves) {
      double[][] cdf = cdf(c.micros());
      if (cdf[0].length > 0) {
        XYSeries s = chart.addSeries(c.name(), cdf[0], cdf[1]);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(COLORS[c.arm() % COLORS.length]);
        s.setLineStyle(LINES[c.rate() % LINES.length]);
      }
    }
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    String name = file.toAbsolutePath().toString();
    // XChart appends the extension itself
    String base = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name;
    BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
  }

  /** x: latency in ms (at least 0.1, for the log axis), y: share of rows at or below it. */
  static double[][] cdf(long[] micros) {
    long[] sorted = micros.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    if (n == 0) {
      return new double[][] {new double[0], new double[0]};
    }
    int points = Math.min(POINTS, n);
    double[] x = new double[points];
    double[] y = new double[points];
    for (int i = 0; i < points; i++) {
      int rank = (int) Math.ceil((i + 1) * (double) n / points); // 1..n, the last point is n
      x[i] = Math.max(0.1, sorted[rank - 1] / 1000.0);
      y[i] = rank / (double) n;
    }
    return new double[][] {x, y};
  }

  /** The latencies of several phases as one array, for one series. */
  static long[] concat(List<long[]> parts) {
    return parts.stream().flatMapToLong(Arrays::stream).toArray();
  }
}
