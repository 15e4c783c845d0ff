package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.cli.internal.TerminalProgress;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TerminalProgressTest {
  @Test
  void showsProgressOnATerminalAndClearsTheLine() {
    StringWriter err = new StringWriter();
    TerminalProgress p = TerminalProgress.of(new PrintWriter(err), true, false);
    p.update("reading orders", 10, 100);
    p.done();
    assertThat(err.toString()).contains("reading orders: 10 / 100").endsWith("\r\033[K");
  }

  @Test
  void staysQuietWithJsonOrWithoutATerminal() {
    StringWriter err = new StringWriter();
    TerminalProgress.of(new PrintWriter(err), true, true).update("x", 1, 2);
    TerminalProgress.of(new PrintWriter(err), false, false).update("x", 1, 2);
    assertThat(err.toString()).isEmpty();
  }
}
