package dev.unpoll.samples.orders.migrated;

import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.UnpollConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The samples' relay configurations, shipped as classpath YAML in the documented format. Their
 * {@code ${...}} placeholders ({@code ORDERS_DB_URL}, {@code ORDERS_DB_USER}, {@code
 * ORDERS_DB_PASSWORD}, {@code KAFKA_BOOTSTRAP_SERVERS}) come from {@code env}.
 */
public final class RelayConfigs {
  /** Captures {@code shop.order_integration}: its inserts go to {@link #LEGACY_TOPIC}. */
  public static final String LEGACY = "relay-legacy.yaml";

  /** Captures the outbox table: {@code OrderPlaced} events go to {@link #OUTBOX_TOPIC}. */
  public static final String OUTBOX = "relay-outbox.yaml";

  /** The topic named in {@link #LEGACY}. */
  public static final String LEGACY_TOPIC = "shop.order-integration";

  /** The topic {@link #OUTBOX}'s pattern gives aggregate type {@code order}. */
  public static final String OUTBOX_TOPIC = "outbox.order";

  private RelayConfigs() {}

  /** Loads and validates one of the configurations. */
  public static UnpollConfig load(String name, Map<String, String> env) {
    return UnpollConfig.parse(text(name), env);
  }

  /**
   * The mapping of {@code table} in one of the configurations: the table, key and status values the
   * consumer's claim uses, written once in the YAML the relay runs from.
   */
  public static TableMapping mapping(String name, String table) {
    return UnpollConfig.parseMapping(text(name), table, Map.of(), name);
  }

  private static String text(String name) {
    try (InputStream in = RelayConfigs.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalArgumentException(name + " missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
