package dev.unpoll.relay.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.unpoll.relay.ops.internal.Problems;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's HTTP endpoints on the JDK's built-in HTTP server:
 *
 * <ul>
 *   <li>{@code GET /health}: liveness. 200 while the {@link Builder#health(Supplier) health check}
 *       is up, 503 otherwise; body {@code {"status":"UP"|"DOWN","reason":"..."}}. A Kubernetes
 *       liveness probe restarts the pod on 503.
 *   <li>{@code GET /ready}: readiness. 200 while the {@link Builder#readiness(Supplier) readiness
 *       check} is up (the relay streams and its slot is under the retained-WAL threshold), 503
 *       otherwise; same body. A standby replica is not ready.
 *   <li>{@code GET /metrics}: the {@link PrometheusMeterRegistry} in the Prometheus text format
 *       ({@code text/plain; version=0.0.4}), or OpenMetrics when the scraper asks for it in {@code
 *       Accept}.
 * </ul>
 *
 * Other paths answer 404, other methods than GET and HEAD 405. A check that throws counts as down.
 * Port 0 binds an ephemeral port; {@link #port()} tells which.
 */
public final class RelayHttpServer implements AutoCloseable {
  /** Default port. */
  public static final int DEFAULT_PORT = 8080;

  /** Default bind address: every interface. */
  public static final String DEFAULT_BIND_ADDRESS = "0.0.0.0";

  private static final Logger LOG = LoggerFactory.getLogger(RelayHttpServer.class);
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String OPEN_METRICS =
      "application/openmetrics-text; version=1.0.0; charset=utf-8";
  private static final String JSON = "application/json";

  private final int requestedPort;
  private final String bindAddress;
  private final PrometheusMeterRegistry registry;
  private final Supplier<HealthStatus> health;
  private final Supplier<HealthStatus> readiness;

  private HttpServer server; // guarded by this
  private ExecutorService executor; // guarded by this

  private RelayHttpServer(Builder b) {
    this.requestedPort = b.port;
    this.bindAddress = b.bindAddress;
    this.registry = b.registry;
    this.health = b.health;
    this.readiness = b.readiness;
  }

  /** A builder; {@code meterRegistry} and {@code readiness} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the port and starts serving.
   *
   * @throws RelayOpsException when the port cannot be bound (in use, no permission) or the server
   *     was already started or closed
   */
  public synchronized RelayHttpServer start() {
    if (server != null || executor != null) {
      throw new RelayOpsException("the relay HTTP server was already started");
    }
    HttpServer s;
    try {
      s = HttpServer.create(new InetSocketAddress(bindAddress, requestedPort), 16);
    } catch (IOException e) {
      throw new RelayOpsException(
          "cannot serve HTTP on "
              + bindAddress
              + ":"
              + requestedPort
              + " ("
              + e.getMessage()
              + "): choose a free port (http.port) or 0 for any",
          e);
    }
    AtomicInteger threads = new AtomicInteger();
    executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "unpoll-relay-http-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    s.setExecutor(executor);
    s.createContext("/", this::handle);
    s.start();
    server = s;
    LOG.info("relay HTTP server on {}:{} (/health, /ready, /metrics)", bindAddress, port());
    return this;
  }

  /** The bound port (the ephemeral one when configured with 0). */
  public synchronized int port() {
    if (server == null) {
      throw new RelayOpsException("the relay HTTP server is not running");
    }
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      boolean head = "HEAD".equals(method);
      if (!head && !"GET".equals(method)) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, JSON, json("DOWN", "method " + method + " not allowed"), false);
        return;
      }
      switch (exchange.getRequestURI().getPath()) {
        case "/health":
          sendStatus(exchange, check(health, "health"), head);
          break;
        case "/ready":
          sendStatus(exchange, check(readiness, "readiness"), head);
          break;
        case "/metrics":
          String accept = exchange.getRequestHeaders().getFirst("Accept");
          boolean openMetrics = accept != null && accept.contains("application/openmetrics-text");
          String contentType = openMetrics ? OPEN_METRICS : PROMETHEUS_TEXT;
          byte[] body = registry.scrape(contentType).getBytes(StandardCharsets.UTF_8);
          send(exchange, 200, contentType, body, head);
          break;
        default:
          send(
              exchange,
              404,
              JSON,
              json("DOWN", "no such endpoint; try /health, /ready, /metrics"),
              head);
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "relay HTTP server: {} {} failed",
          exchange.getRequestMethod(),
          exchange.getRequestURI(),
          e);
    }
  }

  private static HealthStatus check(Supplier<HealthStatus> check, String name) {
    try {
      HealthStatus s = check.get();
      return s == null ? HealthStatus.down(name + " check returned no status") : s;
    } catch (RuntimeException e) {
      LOG.warn("relay HTTP server: the {} check failed", name, e);
      return HealthStatus.down(name + " check failed: " + e.getClass().getSimpleName());
    }
  }

  private static void sendStatus(HttpExchange exchange, HealthStatus s, boolean head)
      throws IOException {
    send(exchange, s.up() ? 200 : 503, JSON, json(s.up() ? "UP" : "DOWN", s.reason()), head);
  }

  private static void send(
      HttpExchange exchange, int code, String contentType, byte[] body, boolean head)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    if (head) {
      exchange.sendResponseHeaders(code, -1);
      return;
    }
    exchange.sendResponseHeaders(code, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  static byte[] json(String status, String reason) {
    return ("{\"status\":\"" + status + "\",\"reason\":" + quote(reason) + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          b.append("\\\"");
          break;
        case '\\':
          b.append("\\\\");
          break;
        case '\n':
          b.append("\\n");
          break;
        case '\r':
          b.append("\\r");
          break;
        case '\t':
          b.append("\\t");
          break;
        default:
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    return b.append('"').toString();
  }

  /** Stops at once (a request being answered is cut off) and frees the port. */
  @Override
  public synchronized void close() {
    if (server != null) {
      server.stop(0);
      LOG.info("relay HTTP server stopped");
    }
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  /** Settings of a {@link RelayHttpServer}; {@link #build()} checks them all at once. */
  public static final class Builder {
    private int port = DEFAULT_PORT;
    private String bindAddress = DEFAULT_BIND_ADDRESS;
    private PrometheusMeterRegistry registry;
    private Supplier<HealthStatus> health = () -> HealthStatus.up("running");
    private Supplier<HealthStatus> readiness;

    private Builder() {}

    /** TCP port (default {@link #DEFAULT_PORT}); 0 binds an ephemeral port. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /**
     * Address to bind (default {@link #DEFAULT_BIND_ADDRESS}); {@code 127.0.0.1} for local only.
     */
    public Builder bindAddress(String bindAddress) {
      this.bindAddress = bindAddress;
      return this;
    }

    /** The registry {@code /metrics} scrapes. */
    public Builder meterRegistry(PrometheusMeterRegistry registry) {
      this.registry = registry;
      return this;
    }

    /**
     * Liveness check behind {@code /health} (default: always up). Keep it to conditions a restart
     * fixes or the relay cannot continue with (engine failed, slot missing or lost).
     */
    public Builder health(Supplier<HealthStatus> health) {
      this.health = health;
      return this;
    }

    /**
     * Readiness check behind {@code /ready}: up while streaming and under the WAL threshold, for
     * example {@code HealthStatus.allOf(engine::streaming, slotMonitor::readiness)}.
     */
    public Builder readiness(Supplier<HealthStatus> readiness) {
      this.readiness = readiness;
      return this;
    }

    /** Validates every setting; {@link RelayHttpServer#start()} binds the port. */
    public RelayHttpServer build() {
      Problems p = new Problems("RelayHttpServer");
      p.check(port < 0 || port > 65535, "port", port, "give 1-65535, or 0 for an ephemeral port");
      p.check(
          bindAddress == null || bindAddress.isBlank(),
          "bindAddress",
          bindAddress,
          "give a host or IP address such as 0.0.0.0");
      p.check(registry == null, "meterRegistry", "missing", "give the PrometheusMeterRegistry");
      p.check(health == null, "health", "null", "give a check or leave the default");
      p.check(readiness == null, "readiness", "missing", "give the readiness check");
      p.throwIfAny();
      return new RelayHttpServer(this);
    }
  }
}
