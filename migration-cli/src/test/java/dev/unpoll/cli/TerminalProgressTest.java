package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.cli.internal.TerminalProgress;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TerminalProgressTest {
  @Test
  void showsABarWithCountRateAndEtaOnATerminalAndClearsTheLine() {
    StringWriter err = new StringWriter();
    TerminalProgress p = TerminalProgress.of(new PrintWriter(err), true, false, 100);
    p.update("reading orders", 10, 100);
    p.update("reading orders", 40, 100);
    p.done();
    String shown = err.toString();
    assertThat(shown).contains("reading orders", "40/100", "/s").endsWith("\r\033[K");
    assertThat(shown).contains("%");
    for (String line : shown.split("\r")) {
      assertThat(line.length()).as(line).isLessThanOrEqualTo(100 + 3);
    }
  }

  @Test
  void anUnknownTotalShowsTheCountWithoutABar() {
    StringWriter err = new StringWriter();
    TerminalProgress p = TerminalProgress.of(new PrintWriter(err), true, false, 100);
    p.update("reading public.orders", 2500, -1);
    p.done();
    assertThat(err.toString()).contains("reading public.orders", "2500").endsWith("\r\033[K");
  }

  @Test
  void staysQuietWithJsonOrWithoutATerminal() {
    StringWriter err = new StringWriter();
    TerminalProgress.of(new PrintWriter(err), true, true, 100).update("x", 1, 2);
    TerminalProgress.of(new PrintWriter(err), false, false, 100).update("x", 1, 2);
    TerminalProgress.of(new PrintWriter(err), false, false).update("x", 1, 2);
    assertThat(err.toString()).isEmpty();
  }
}
