package dev.unpoll.faults;

import dev.unpoll.testkit.EmbeddedKafkaBroker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The Kafka broker as its own process, so that SIGSTOP freezes it for real. Prints {@code
 * unpoll-fault-broker <bootstrap>} when it serves; on standard input, {@code stop} shuts the broker
 * down (its data and address stay; it prints {@code broker stopped #n}) and {@code start} brings it
 * back; end of input closes it.
 */
public final class BrokerMain {
  static final String READY = "unpoll-fault-broker ";

  private BrokerMain() {}

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
