package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.consumer.ConsumerException;
import dev.unpoll.consumer.DeadLetter;
import dev.unpoll.consumer.DeadLetterFilter;
import dev.unpoll.consumer.DeadLetterReplay;
import dev.unpoll.consumer.DeadLetterSummary;
import dev.unpoll.consumer.DeadLetterTopic;
import dev.unpoll.consumer.TopicNotFoundException;
import dev.unpoll.migration.Durations;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.Progress;
import dev.unpoll.migration.engine.Migrations;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code unpoll dlt list|show|replay --topic T.DLT}: the dead letters of a consumer, grouped by
 * failure, one by one, and sent back to their topic once the handler is fixed. A thin layer over
 * {@link DeadLetterTopic}.
 */
@Command(
    name = "dlt",
    mixinStandardHelpOptions = true,
    description = {
      "Inspect and replay a dead-letter topic (<topic>.DLT): list groups failures by exception,"
          + " show prints one record's failure headers, replay sends records back to their"
          + " original topic (try --dry-run first). Reads a snapshot of the topic without a"
          + " consumer group; see docs/dead-letters.md."
    },
    subcommands = {DltCommand.ListFailures.class, DltCommand.Show.class, DltCommand.Replay.class})
public final class DltCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "a subcommand is required: list, show or replay (try: unpoll dlt list"
            + " --topic orders.DLT)");
  }

  /** The dead-letter topic and the filters shared by {@code list} and {@code replay}. */
  static final class Selection {
    @Option(
        names = "--topic",
        required = true,
        paramLabel = "<topic.DLT>",
        description = "The dead-letter topic, e.g. orders.DLT.")
    String topic;

    @Option(
        names = "--group",
        paramLabel = "<group>",
        description = "Only records this consumer group gave up on.")
    String group;

    @Option(
        names = "--since",
        paramLabel = "<time>",
        converter = SinceConverter.class,
        description =
            "Only records dead-lettered at or after this time: ISO-8601"
                + " (2026-12-02T03:00:00Z) or a duration back from now (30m, 2h, 7d).")
    Instant since;

    @Option(names = "--key", paramLabel = "<key>", description = "Only records with this key.")
    String key;

    DeadLetterFilter filter() {
      return DeadLetterFilter.all().withGroup(group).withSince(since).withKey(key);
    }
  }

  /** Reads {@code --since}: an ISO-8601 time or a duration back from now. */
  static final class SinceConverter implements ITypeConverter<Instant> {
    private final Clock clock;

    SinceConverter() {
      this(Clock.systemUTC());
    }

    SinceConverter(Clock clock) {
      this.clock = clock;
    }

    @Override
    public Instant convert(String value) {
      String v = value.trim();
      try {
        return OffsetDateTime.parse(v).toInstant();
      } catch (DateTimeParseException notATime) {
        try {
          return clock.instant().minus(Durations.parse(v));
        } catch (MigrationException notADuration) {
          throw new TypeConversionException(
              "'"
                  + value
                  + "' is neither an ISO-8601 time with offset (2026-12-02T03:00:00Z) nor a"
                  + " duration back from now (30m, 2h, 7d)");
        }
      }
    }
  }

  /** The reader of {@code topic} with the connection settings every command uses. */
  private static DeadLetterTopic open(Migrations s, String topic) {
    return DeadLetterTopic.builder()
        .bootstrapServers(s.kafkaBootstrap())
        .kafkaProperties(s.kafkaProperties())
        .topic(topic)
        .build();
  }

  /** Runs {@code work}, turning the library's failures into the command's. */
  private static <T> T call(String topic, Function<String, T> work) {
    try {
      return work.apply(topic);
    } catch (TopicNotFoundException e) {
      throw MigrationException.usage(
          e.getMessage() + "; check --topic (kafka-topics.sh --list shows the topics)");
    } catch (ConsumerException e) {
      throw new MigrationException(e.getMessage(), e);
    }
  }

  private static ObjectNode toJson(DeadLetterReplay r) {
    ObjectNode n = BaseCommand.JSON.createObjectNode();
    n.put("from", r.from());
    n.put("topic", r.topic());
    if (!r.dryRun()) {
      n.put("partition", r.partition());
      n.put("offset", r.offset());
    }
    n.put("key", r.key());
    n.put("ce_id", r.idempotencyKey());
    n.put("dryRun", r.dryRun());
    return n;
  }

  /** {@code unpoll dlt list}. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "Group the dead letters by exception class: count, first and last time, the consumer"
            + " groups, example positions (partition:offset) to pass to show."
      })
  public static final class ListFailures extends BaseCommand {
    @Mixin Selection selection = new Selection();

    @Override
    public Integer call() {
      Migrations s = engine().build();
      List<DeadLetterSummary> groups =
          DltCommand.call(selection.topic, t -> open(s, t).summarize(selection.filter()));
      long selected = groups.stream().mapToLong(DeadLetterSummary::count).sum();
      if (common.json) {
        ObjectNode n = JSON.createObjectNode();
        n.put("topic", selection.topic);
        n.put("selected", selected);
        ArrayNode failures = n.putArray("failures");
        for (DeadLetterSummary g : groups) {
          ObjectNode f = failures.addObject();
          f.put("exception", g.exceptionClass());
          f.put("count", g.count());
          f.put("first", g.first().toString());
          f.put("last", g.last().toString());
          g.consumerGroups().stream().sorted().forEach(f.putArray("groups")::add);
          g.originalTopics().stream().sorted().forEach(f.putArray("topics")::add);
          g.examples().forEach(f.putArray("examples")::add);
        }
        printJson(n);
        return ExitCode.OK.code();
      }
      line(selection.topic + ": " + selected + " dead letter(s)" + filters());
      if (groups.isEmpty()) {
        return ExitCode.OK.code();
      }
      int width =
          Math.max(
              "EXCEPTION".length(),
              groups.stream().mapToInt(g -> g.exceptionClass().length()).max().orElse(0));
      line(
          String.format(
              "%6s  %-" + width + "s  %-24s  %-24s  %-20s  %s",
              "COUNT",
              "EXCEPTION",
              "FIRST",
              "LAST",
              "GROUPS",
              "EXAMPLES"));
      for (DeadLetterSummary g : groups) {
        line(
            String.format(
                "%6d  %-" + width + "s  %-24s  %-24s  %-20s  %s",
                g.count(),
                g.exceptionClass(),
                g.first(),
                g.last(),
                String.join(",", g.consumerGroups().stream().sorted().toList()),
                String.join(" ", g.examples())));
      }
      line(
          "next: unpoll dlt show --topic "
              + selection.topic
              + " --offset "
              + groups.get(0).examples().get(0));
      return ExitCode.OK.code();
    }

    private String filters() {
      List<String> f = new ArrayList<>();
      if (selection.group != null) {
        f.add("group " + selection.group);
      }
      if (selection.since != null) {
        f.add("since " + selection.since);
      }
      if (selection.key != null) {
        f.add("key " + selection.key);
      }
      return f.isEmpty() ? "" : " (" + String.join(", ", f) + ")";
    }
  }

  /** {@code unpoll dlt show}. */
  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "Print one dead letter: its failure headers, its original headers and key; the payload"
            + " only with --payload (payloads can be sensitive)."
      })
  public static final class Show extends BaseCommand {
    @Option(
        names = "--topic",
        required = true,
        paramLabel = "<topic.DLT>",
        description = "The dead-letter topic, e.g. orders.DLT.")
    String topic;

    @Option(
        names = "--offset",
        required = true,
        paramLabel = "<partition:offset>",
        converter = PositionConverter.class,
        description =
            "The record's position in the dead-letter topic, e.g. 0:42 (list shows them).")
    DeadLetterFilter.Position position;

    @Option(names = "--payload", description = "Also print the record's value.")
    boolean payload;

    @Override
    public Integer call() {
      Migrations s = engine().build();
      DeadLetter d =
          DltCommand.call(topic, t -> open(s, t).find(position))
              .orElseThrow(
                  () ->
                      new MigrationException(
                          "no record at "
                              + position
                              + " in "
                              + topic
                              + " (deleted by retention, or past the end); unpoll dlt list --topic "
                              + topic
                              + " shows the positions there are"));
      if (common.json) {
        ObjectNode n = JSON.createObjectNode();
        n.put("topic", d.topic());
        n.put("partition", d.partition());
        n.put("offset", d.offset());
        n.put("time", d.time().toString());
        n.put("key", d.keyAsString());
        n.put("exception", d.exceptionClass());
        n.put("message", d.exceptionMessage());
        n.put("group", d.consumerGroup().orElse(null));
        n.put("originalTopic", d.originalTopic().orElse(null));
        ObjectNode failure = n.putObject("failureHeaders");
        d.failureHeaders().forEach(failure::put);
        ObjectNode headers = n.putObject("headers");
        d.originalHeaders()
            .forEach(
                h ->
                    headers.put(
                        h.key(),
                        h.value() == null
                            ? null
                            : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8)));
        if (payload) {
          n.put("value", d.valueAsString());
        }
        printJson(n);
        return ExitCode.OK.code();
      }
      line(d.topic() + " " + d.position() + "  " + d.time() + "  key " + d.keyAsString());
      line("failure:");
      d.failureHeaders().forEach((k, v) -> line("  " + k + ": " + v));
      line("headers:");
      d.originalHeaders()
          .forEach(
              h ->
                  line(
                      "  "
                          + h.key()
                          + ": "
                          + (h.value() == null
                              ? "null"
                              : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8))));
      line(
          payload
              ? "value: " + d.valueAsString()
              : "value: (hidden, "
                  + (d.value() == null ? 0 : d.value().length)
                  + " bytes; --payload prints it)");
      return ExitCode.OK.code();
    }
  }

  /** {@code unpoll dlt replay}. */
  @Command(
      name = "replay",
      mixinStandardHelpOptions = true,
      description = {
        "Send the selected dead letters back to their original topic with their original key,"
            + " value and headers (ce_id included, so an idempotent consumer handles each event"
            + " once), without the failure headers, with unpoll_replayed_from and"
            + " unpoll_replayed_at. Without a filter every record of the topic is replayed."
            + " --dry-run lists what would be sent."
      })
  public static final class Replay extends BaseCommand {
    @Mixin Selection selection = new Selection();

    @Option(
        names = "--offset",
        paramLabel = "<partition:offset>",
        converter = PositionConverter.class,
        description = "Only the record at this position; repeat for more.")
    List<DeadLetterFilter.Position> positions = new ArrayList<>();

    @Option(names = "--dry-run", description = "Print what would be sent; send nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
      Migrations s = engine().build();
      DeadLetterFilter filter = selection.filter();
      for (DeadLetterFilter.Position p : positions) {
        filter = filter.withPosition(p);
      }
      DeadLetterFilter selected = filter;
      // a bar on a terminal while the topic is read and the sends are acknowledged; quiet with
      // --json or when stderr is not a terminal
      Progress bar = progress();
      List<DeadLetterReplay> sent;
      try {
        sent =
            DltCommand.call(selection.topic, t -> open(s, t).replay(selected, dryRun, bar::update));
      } finally {
        bar.done();
      }
      if (common.json) {
        ArrayNode list = JSON.createArrayNode();
        sent.forEach(r -> list.add(toJson(r)));
        printJson(list);
        return ExitCode.OK.code();
      }
      for (DeadLetterReplay r : sent) {
        line(
            (r.dryRun() ? "would replay " : "replayed ")
                + r.from()
                + " -> "
                + (r.dryRun() ? r.topic() : r.topic() + "-" + r.partition() + "@" + r.offset())
                + "  key "
                + r.key()
                + "  ce_id "
                + r.idempotencyKey());
      }
      line(
          dryRun
              ? "dry run: " + sent.size() + " record(s) would be replayed; nothing was sent"
              : sent.size() + " record(s) replayed");
      return ExitCode.OK.code();
    }
  }

  /** Reads {@code --offset partition:offset}. */
  static final class PositionConverter implements ITypeConverter<DeadLetterFilter.Position> {
    @Override
    public DeadLetterFilter.Position convert(String value) {
      try {
        return DeadLetterFilter.Position.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
