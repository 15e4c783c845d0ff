package dev.unpoll.faults;

import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.ChildJvm;
import dev.unpoll.testkit.EmbeddedKafkaBroker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The Kafka broker as its own process, so that SIGSTOP freezes it for real. Prints {@code
 * unpoll-fault-broker <bootstrap>} when it serves; on standard input, {@code stop} shuts the broker
 * down (its data and address stay; it prints {@code broker stopped #n}) and {@code start} brings it
 * back; end of input closes it.
 */
public final class BrokerMain {
  static final String READY = "unpoll-fault-broker ";

  private BrokerMain() {}

  /** Starts the broker in its own JVM, its data under {@code dir}, its output in {@code log}. */
  static ChildJvm start(Path dir, Path log) throws IOException {
    return ChildJvm.start(
        "broker", BrokerMain.class, "512m", List.of(dir.toString()), Map.of(), log);
  }

  /** Waits until the broker started by {@link #start} serves; its bootstrap servers. */
  static String awaitBootstrap(Path log) throws IOException {
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> Files.exists(log) && Files.readString(log).contains(READY));
    return Files.readAllLines(log).stream()
        .filter(l -> l.startsWith(READY))
        .findFirst()
        .orElseThrow()
        .substring(READY.length())
        .trim();
  }

  public static void main(String[] args) throws Exception {
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.builder().baseDirectory(Path.of(args[0])).start()) {
      System.out.println(READY + broker.kafka().bootstrapServers());
      System.out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      int stops = 0;
      int starts = 0;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        switch (line.trim()) {
          case "stop" -> {
            broker.shutdownBroker();
            System.out.println("broker stopped #" + ++stops);
          }
          case "start" -> {
            broker.restartBroker();
            System.out.println("broker started #" + ++starts);
          }
          default -> System.out.println("unknown command " + line);
        }
        System.out.flush();
      }
    }
  }
}
