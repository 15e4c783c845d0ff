package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.DurationConverter;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.TailedEvent;
import dev.unpoll.migration.engine.EventTail;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll tail --topic T}: print events with key, headers and value. */
@Command(
    name = "tail",
    mixinStandardHelpOptions = true,
    description = {
      "Print a topic's events with partition, offset, key, headers and value; from the end"
          + " (new events only) unless --from-beginning. Runs until --max events, --idle-timeout"
          + " or Ctrl-C. With --json: one JSON object per line."
    })
public final class TailCommand extends BaseCommand {
  private static final ObjectMapper COMPACT = new ObjectMapper();

  @Option(names = "--topic", required = true, paramLabel = "<topic>", description = "The topic.")
  String topic;

  @Option(names = "--from-beginning", description = "Start at the oldest event.")
  boolean fromBeginning;

  @Option(names = "--max", paramLabel = "<n>", description = "Stop after n events.")
  Long max;

  @Option(
      names = "--idle-timeout",
      paramLabel = "<duration>",
      converter = DurationConverter.class,
      description = "Stop when no event arrives for this long.")
  Duration idleTimeout;

  @Override
  public Integer call() {
    if (max != null && max < 1) {
      throw MigrationException.usage("--max must be at least 1, was " + max);
    }
    long printed = 0;
    try (EventTail tail = engine().build().tail(topic, fromBeginning)) {
      long lastRecord = System.nanoTime();
      while (max == null || printed < max) {
        if (Thread.currentThread().isInterrupted()) {
          break;
        }
        List<TailedEvent> records = tail.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          if (idleTimeout != null && System.nanoTime() - lastRecord > idleTimeout.toNanos()) {
            break;
          }
          continue;
        }
        lastRecord = System.nanoTime();
        for (TailedEvent r : records) {
          print(r);
          printed++;
          if (max != null && printed >= max) {
            break;
          }
        }
      }
    }
    if (!common.json) {
      err().println(printed + " event(s)");
    }
    return ExitCode.OK.code();
  }

  private void print(TailedEvent r) {
    String key = r.key();
    String value = r.value();
    if (common.json) {
      ObjectNode n = COMPACT.createObjectNode();
      n.put("topic", r.topic());
      n.put("partition", r.partition());
      n.put("offset", r.offset());
      n.put("timestamp", r.timestamp().toString());
      n.put("key", key);
      ObjectNode h = n.putObject("headers");
      for (TailedEvent.Header header : r.headers()) {
        h.put(header.name(), header.value());
      }
      JsonNode parsed = null;
      if (value != null) {
        try {
          parsed = COMPACT.readTree(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException notJson) {
          parsed = null;
        }
      }
      if (parsed != null) {
        n.set("value", parsed);
      } else {
        n.put("value", value);
      }
      out().println(n.toString());
    } else {
      out()
          .println(
              r.topic()
                  + "-"
                  + r.partition()
                  + "@"
                  + r.offset()
                  + "  "
                  + r.timestamp()
                  + "  key "
                  + key);
      for (TailedEvent.Header header : r.headers()) {
        out()
            .println(
                "  " + header.name() + ": " + (header.value() == null ? "null" : header.value()));
      }
      out().println("  value: " + value);
    }
    out().flush();
  }
}
