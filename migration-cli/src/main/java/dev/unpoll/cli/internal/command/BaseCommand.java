package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.unpoll.cli.internal.CommonOptions;
import dev.unpoll.cli.internal.Invocation;
import dev.unpoll.cli.internal.TerminalProgress;
import dev.unpoll.migration.Progress;
import dev.unpoll.migration.internal.Settings;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every command shares: options, output streams, JSON, settings. */
public abstract class BaseCommand implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Spec protected CommandSpec spec;

  @Mixin protected CommonOptions common = new CommonOptions();

  /** Whether {@code --verbose} was given. */
  public boolean verbose() {
    return common.verbose;
  }

  /** Whether {@code --json} was given. */
  public boolean json() {
    return common.json;
  }

  Invocation root() {
    return (Invocation) spec.root().userObject();
  }

  Map<String, String> env() {
    return root().environment();
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  Settings settings() {
    return Settings.resolve(common.given(), env());
  }

  Progress progress() {
    return TerminalProgress.of(err(), root().terminal(), common.json);
  }

  void printJson(JsonNode node) {
    try {
      out().println(JSON.writeValueAsString(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    out().flush();
  }

  void line(String text) {
    out().println(text);
  }
}
