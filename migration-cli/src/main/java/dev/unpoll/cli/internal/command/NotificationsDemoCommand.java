package dev.unpoll.cli.internal.command;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.samples.notifications.NotificationsDemo;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code unpoll demo notifications}: one event fanned out to three workers. */
@Command(
    name = "notifications",
    mixinStandardHelpOptions = true,
    exitCodeListHeading = ExitCode.HEADING,
    exitCodeList = {
      " 0:every worker handled every video (sent, or dead-lettered when refused)",
      " 1:the demo could not run (see the message)",
      " 2:usage error",
      " 3:a notification was missed"
    },
    description = {
      "A video service publishes VideoPublished events through the outbox; the relay puts each"
          + " on outbox.video once, and three workers read it in their own consumer groups: email"
          + " (no limit), SMS (held to its gateway's rate), WhatsApp (its API down for the first"
          + " seconds, then refusing every fifth video to its own dead-letter topic). Prints, every"
          + " second, what the service published and what each worker sent, on a PostgreSQL and"
          + " a Kafka broker it starts on this machine.",
      "Takes about 20 seconds with the defaults; the servers' data is deleted when it ends."
    })
public final class NotificationsDemoCommand extends BaseCommand {
  @Option(
      names = "--sms-rate",
      paramLabel = "<per second>",
      defaultValue = "4",
      description = "The SMS gateway's rate limit (default: ${DEFAULT-VALUE}/s).")
  double smsRate;

  @Option(
      names = "--dir",
      paramLabel = "<dir>",
      description = "Where the servers' binaries and data live (default: <tmp>/unpoll-demo).")
  Path dir;

  @Override
  public Integer call() throws Exception {
    if (!(smsRate > 0 && smsRate <= 1000)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--sms-rate must be between 0 and 1000 per second, not " + smsRate);
    }
    if (!common.verbose) {
      quietLibraries();
    }
    Path base = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"), "unpoll-demo");
    NotificationsDemo.Settings defaults = NotificationsDemo.Settings.defaults(base);
    NotificationsDemo.Settings settings =
        new NotificationsDemo.Settings(
            defaults.videosPerSecond(),
            defaults.publishFor(),
            smsRate,
            defaults.whatsappOutage(),
            base);
    NotificationsDemo.Summary summary;
    try (NotificationsDemo demo = new NotificationsDemo(settings)) {
      if (!common.json) {
        line("unpoll demo notifications: one event, three workers, each at its own pace");
      }
      summary =
          demo.run(
              text -> {
                if (!common.json) {
                  line("    " + text);
                  out().flush();
                }
              },
              tick -> {
                if (common.json) {
                  printTick(tick);
                  return;
                }
                if (tick.second() == 1) {
                  line("");
                  line(row("time", "published", "email", "sms", "whatsapp", "whatsapp.DLT"));
                }
                line(
                    row(
                        tick.second() + " s",
                        Long.toString(tick.published()),
                        Long.toString(tick.email()),
                        Long.toString(tick.sms()),
                        Long.toString(tick.whatsapp()),
                        Long.toString(tick.whatsappDeadLetters())));
                out().flush();
              });
    }
    if (!common.json) {
      line("");
      line(
          String.format(
              Locale.ROOT,
              "the service published %d videos in %.1f s, held back by no worker;",
              summary.last().published(),
              summary.publishSeconds()));
      line(
          "email sent "
              + summary.last().email()
              + ", sms "
              + summary.last().sms()
              + " at its gateway's rate, whatsapp "
              + summary.last().whatsapp()
              + " after its outage and dead-lettered the "
              + summary.refused()
              + " it refused: "
              + (summary.ok() ? "every video reached every channel" : "INCOMPLETE"));
    }
    return summary.ok() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
  }

  private void printTick(NotificationsDemo.Tick t) {
    ObjectNode n = JSON.createObjectNode();
    n.put("second", t.second());
    n.put("published", t.published());
    n.put("email", t.email());
    n.put("sms", t.sms());
    n.put("whatsapp", t.whatsapp());
    n.put("whatsappDeadLetters", t.whatsappDeadLetters());
    out().println(n.toString());
    out().flush();
  }

  private static String row(String... cells) {
    return String.format(Locale.ROOT, "    %6s %10s %6s %6s %9s %13s", (Object[]) cells);
  }
}
