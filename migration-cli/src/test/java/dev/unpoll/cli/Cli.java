package dev.unpoll.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** Runs the real command object through picocli's execute() with captured output. */
final class Cli {
  static final ObjectMapper JSON = new ObjectMapper();

  private Cli() {}

  record Result(int exit, String out, String err) {
    JsonNode json() {
      try {
        return JSON.readTree(out);
      } catch (Exception e) {
        throw new AssertionError("stdout is not JSON: " + out + "\nstderr: " + err, e);
      }
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- out\n" + out + "--- err\n" + err;
    }
  }

  static Result run(Map<String, String> env, String... args) {
    return run(false, env, args);
  }

  /** Like {@link #run(Map, String...)}; {@code terminal}: as if stderr were a terminal. */
  static Result run(boolean terminal, Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Unpoll.commandLine(env, terminal);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Result(exit, out.toString(), err.toString());
  }

  /** Runs with --db/--user and the password in PGPASSWORD (plus --kafka when given). */
  static Result run(TestPostgres db, TestKafka kafka, String... args) {
    return run(false, db, kafka, args);
  }

  /** Like {@link #run(TestPostgres, TestKafka, String...)}, as if stderr were a terminal. */
  static Result runOnTerminal(TestPostgres db, TestKafka kafka, String... args) {
    return run(true, db, kafka, args);
  }

  private static Result run(boolean terminal, TestPostgres db, TestKafka kafka, String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(List.of("--db", db.jdbcUrl(), "--user", db.user()));
    if (kafka != null) {
      all.addAll(List.of("--kafka", kafka.bootstrapServers()));
    }
    return run(terminal, Map.of("PGPASSWORD", db.password()), all.toArray(String[]::new));
  }
}
