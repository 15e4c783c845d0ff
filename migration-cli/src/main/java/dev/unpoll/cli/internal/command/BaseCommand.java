package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.unpoll.cli.internal.CommonOptions;
import dev.unpoll.cli.internal.Invocation;
import dev.unpoll.cli.internal.TerminalProgress;
import dev.unpoll.migration.Progress;
import dev.unpoll.migration.engine.Migrations;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every command shares: options, output streams, JSON, the engine. */
public abstract class BaseCommand implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Spec protected CommandSpec spec;

  @Mixin protected CommonOptions common = new CommonOptions();

  /** Whether {@code --verbose} was given. */
  public boolean verbose() {
    return common.verbose;
  }

  /**
   * Sets the libraries' loggers to ERROR for a command that narrates (the demos): their warnings
   * and start-up lines would drown the narration; {@code --verbose} keeps them. The Debezium engine
   * logger is named too: logback.xml pins it to INFO (never DEBUG, which logs the password), and a
   * pinned logger does not follow its parent.
   */
  static void quietLibraries() {
    for (String name :
        new String[] {
          "dev.unpoll",
          "io.debezium",
          "io.debezium.embedded.async.AsyncEmbeddedEngine",
          "org.apache.kafka"
        }) {
      ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(name))
          .setLevel(ch.qos.logback.classic.Level.ERROR);
    }
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

  /** The engine's builder with the connection options. */
  Migrations.Builder engine() {
    return common.engine(env());
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

  /** A JSON document the engine gives as text, as a tree to print. */
  static JsonNode readJson(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  void line(String text) {
    out().println(text);
  }
}
