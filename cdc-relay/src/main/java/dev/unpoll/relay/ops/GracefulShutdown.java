package dev.unpoll.relay.ops;

import dev.unpoll.relay.ops.internal.Problems;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the relay's stop action once, with a time limit, on SIGTERM (a JVM shutdown hook) or when
 * called, and logs what happened.
 *
 * <p>The stop action is what the relay needs to end cleanly: stop taking changes, wait for the
 * Kafka acknowledgements of in-flight records, flush the offsets, close the engine, the HTTP server
 * and the leader election. It runs on its own thread; if it has not finished within the {@link
 * Builder#timeout(Duration) timeout}, that thread is interrupted and the shutdown goes on (the JVM
 * exits): records sent but not acknowledged are re-sent after the restart, which at-least-once
 * delivery allows. Keep the timeout below the platform's kill deadline (Kubernetes' {@code
 * terminationGracePeriodSeconds}, default 30 s).
 *
 * <pre>{@code
 * GracefulShutdown shutdown = GracefulShutdown.builder()
 *     .name("unpoll relay")
 *     .timeout(Duration.ofSeconds(20))
 *     .action(() -> { engine.close(); http.close(); election.close(); })
 *     .build()
 *     .registerShutdownHook();
 * }</pre>
 */
public final class GracefulShutdown {
  /** Default limit for the stop action. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);

  private static final Logger LOG = LoggerFactory.getLogger(GracefulShutdown.class);

  private final String name;
  private final Duration timeout;
  private final Runnable action;
  private final AtomicBoolean started = new AtomicBoolean();
  private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
  private final Thread hook;
  private boolean hookRegistered; // guarded by this

  /** How the stop action ended. */
  public enum Result {
    /** The action returned within the timeout. */
    COMPLETED,
    /** The action threw; its exception is in {@link Outcome#failure()}. */
    FAILED,
    /** The action was still running at the timeout and was interrupted. */
    TIMED_OUT
  }

  /**
   * What a shutdown did.
   *
   * @param result how the action ended
   * @param elapsed from the start of the shutdown to the end of the wait
   * @param failure the action's exception with {@link Result#FAILED}, else null
   */
  public record Outcome(Result result, Duration elapsed, Throwable failure) {
    /** Checks the required parts are present. */
    public Outcome {
      Objects.requireNonNull(result, "result");
      Objects.requireNonNull(elapsed, "elapsed");
    }
  }

  private GracefulShutdown(Builder b) {
    this.name = b.name;
    this.timeout = b.timeout;
    this.action = b.action;
    this.hook = new Thread(this::runFromHook, "unpoll-shutdown-hook");
  }

  /** A builder; {@code action} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Registers the JVM shutdown hook that calls {@link #run()} (SIGTERM, SIGINT, exit). Idempotent.
   */
  public synchronized GracefulShutdown registerShutdownHook() {
    if (!hookRegistered) {
      Runtime.getRuntime().addShutdownHook(hook);
      hookRegistered = true;
    }
    return this;
  }

  /**
   * Removes the shutdown hook, for a relay that was stopped another way.
   *
   * @return true when a registered hook was removed
   */
  public synchronized boolean unregisterShutdownHook() {
    if (!hookRegistered) {
      return false;
    }
    hookRegistered = false;
    try {
      return Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      return false; // the JVM is already shutting down
    }
  }

  private void runFromHook() {
    LOG.info("{}: shutdown signal received (SIGTERM or exit)", name);
    run();
  }

  /**
   * Runs the stop action once and waits for it at most the timeout. Later and concurrent calls wait
   * for, and return, the outcome of the first.
   */
  public Outcome run() {
    if (!started.compareAndSet(false, true)) {
      return outcome.join();
    }
    long start = System.nanoTime();
    LOG.info("{}: stopping (timeout {})", name, timeout);
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread worker =
        new Thread(
            () -> {
              try {
                action.run();
                done.complete(null);
              } catch (Throwable t) {
                done.completeExceptionally(t);
              }
            },
            "unpoll-shutdown-action");
    worker.start();
    Outcome result;
    boolean interrupted = false;
    try {
      done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      result = new Outcome(Result.COMPLETED, since(start), null);
      LOG.info("{}: stopped cleanly in {} ms", name, result.elapsed().toMillis());
    } catch (ExecutionException e) {
      result = new Outcome(Result.FAILED, since(start), e.getCause());
      LOG.error(
          "{}: the stop action failed after {} ms; records not yet acknowledged by Kafka are sent"
              + " again after the restart (at-least-once)",
          name,
          result.elapsed().toMillis(),
          e.getCause());
    } catch (TimeoutException e) {
      worker.interrupt();
      result = new Outcome(Result.TIMED_OUT, since(start), null);
      LOG.error(
          "{}: the stop action did not finish within {}; interrupted it and going on. Records not"
              + " yet acknowledged by Kafka are sent again after the restart (at-least-once)",
          name,
          timeout);
    } catch (InterruptedException e) {
      interrupted = true;
      worker.interrupt();
      result = new Outcome(Result.TIMED_OUT, since(start), null);
      LOG.error("{}: interrupted while waiting for the stop action", name);
    }
    outcome.complete(result);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return result;
  }

  private static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  /** Settings of a {@link GracefulShutdown}; {@link #build()} checks them all at once. */
  public static final class Builder {
    private String name = "unpoll relay";
    private Duration timeout = DEFAULT_TIMEOUT;
    private Runnable action;

    private Builder() {}

    /** Name in the log lines (default {@code unpoll relay}). */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** Limit for the stop action (default {@link #DEFAULT_TIMEOUT}). */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** The stop action; it should react to interruption. */
    public Builder action(Runnable action) {
      this.action = action;
      return this;
    }

    /** Validates every setting. */
    public GracefulShutdown build() {
      Problems p = new Problems("GracefulShutdown");
      p.check(name == null || name.isBlank(), "name", name, "give a name for the log lines");
      p.check(
          timeout == null || timeout.toMillis() < 1 || timeout.compareTo(Duration.ofHours(1)) > 0,
          "timeout",
          timeout,
          "give a duration between 1ms and 1h, below the platform's kill deadline");
      p.check(action == null, "action", "missing", "give the action that stops the relay");
      p.throwIfAny();
      return new GracefulShutdown(this);
    }
  }
}
