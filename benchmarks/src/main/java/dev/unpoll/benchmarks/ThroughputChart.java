package dev.unpoll.benchmarks;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * R1's throughput-vs-ceiling chart: each arm's median drain rate as a bar, with its min–max over
 * the rounds as an error bar, the ceilings first. A PNG, written by XChart.
 */
final class ThroughputChart {
  private ThroughputChart() {}

  /** One bar: the arm, its median rate, and the spread over rounds. */
  record Bar(String arm, double median, double min, double max) {}

  static void write(Path file, String title, List<Bar> bars) throws IOException {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(1000)
            .height(560)
            .title(title)
            .xAxisTitle("arm")
            .yAxisTitle("rows per second (median of rounds; bars: min to max)")
            .build();
    chart.getStyler().setLegendVisible(false);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setLabelsVisible(true);
    chart.getStyler().setDecimalPattern("#,###");
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setPlotGridVerticalLinesVisible(false);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setSeriesColors(new Color[] {new Color(0x1f77b4)});
    List<String> names = new ArrayList<>();
    List<Double> medians = new ArrayList<>();
    List<Double> errors = new ArrayList<>();
    for (Bar b : bars) {
      names.add(b.arm());
      medians.add(b.median());
      // XChart draws a symmetric error bar: the larger of the two distances, so none is hidden
      errors.add(Math.max(b.max() - b.median(), b.median() - b.min()));
    }
    chart.addSeries("rows/s", names, medians, errors);
    Files.createDirectories(file.toAbsolutePath().getParent());
    BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}
