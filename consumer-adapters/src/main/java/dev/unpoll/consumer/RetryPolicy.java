package dev.unpoll.consumer;

import dev.unpoll.consumer.internal.Validation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a failing record is retried: at most {@link #maxAttempts()} deliveries in total, with an
 * exponential backoff ({@code initialBackoff * multiplier^(attempt-1)}, capped at {@code
 * maxBackoff}) plus a uniform random jitter of up to {@code ±jitter}. Exceptions whose type, or the
 * type of any cause, is non-retryable go to the dead-letter topic at once. The plain runner and the
 * Spring defaults both read this policy.
 */
public final class RetryPolicy {
  /** Default attempts in total, the first delivery included. */
  public static final int DEFAULT_MAX_ATTEMPTS = 5;

  /** Default wait before the second attempt. */
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(200);

  /** Default growth factor of the wait. */
  public static final double DEFAULT_MULTIPLIER = 2.0;

  /** Default cap of one wait. */
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(10);

  /** Default jitter: each wait moves by a random amount within ±this. */
  public static final Duration DEFAULT_JITTER = Duration.ofMillis(50);

  private final int maxAttempts;
  private final Duration initialBackoff;
  private final double multiplier;
  private final Duration maxBackoff;
  private final Duration jitter;
  private final Set<Class<? extends Throwable>> nonRetryable;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.multiplier = b.multiplier;
    this.maxBackoff = b.maxBackoff;
    this.jitter = b.jitter;
    this.nonRetryable = Set.copyOf(b.nonRetryable);
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The defaults. */
  public static RetryPolicy defaults() {
    return builder().build();
  }

  /** Deliveries in total, the first included. */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** Wait before the second attempt. */
  public Duration initialBackoff() {
    return initialBackoff;
  }

  /** Growth factor of the wait. */
  public double multiplier() {
    return multiplier;
  }

  /** Cap of one wait. */
  public Duration maxBackoff() {
    return maxBackoff;
  }

  /** Jitter bound. */
  public Duration jitter() {
    return jitter;
  }

  /** Exception types that are dead-lettered without retry. */
  public Set<Class<? extends Throwable>> nonRetryable() {
    return nonRetryable;
  }

  /** The wait before attempt {@code failedAttempt + 1}, jitter included, never negative. */
  public Duration backoff(int failedAttempt) {
    double base = initialBackoff.toMillis() * Math.pow(multiplier, Math.max(0, failedAttempt - 1));
    long capped = (long) Math.min(base, maxBackoff.toMillis());
    long j = jitter.toMillis();
    long jittered = j == 0 ? capped : capped + ThreadLocalRandom.current().nextLong(-j, j + 1);
    return Duration.ofMillis(Math.max(0, jittered));
  }

  /** Upper bound of the time all retries of one record can wait. */
  public Duration worstCaseTotalBackoff() {
    long total = 0;
    for (int a = 1; a < maxAttempts; a++) {
      double base = initialBackoff.toMillis() * Math.pow(multiplier, a - 1);
      total += (long) Math.min(base, maxBackoff.toMillis()) + jitter.toMillis();
    }
    return Duration.ofMillis(total);
  }

  /** True unless {@code failure} or one of its causes is of a non-retryable type. */
  public boolean isRetryable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      for (Class<? extends Throwable> c : nonRetryable) {
        if (c.isInstance(t)) {
          return false;
        }
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "RetryPolicy[maxAttempts="
        + maxAttempts
        + ", initialBackoff="
        + initialBackoff
        + ", multiplier="
        + multiplier
        + ", maxBackoff="
        + maxBackoff
        + ", jitter="
        + jitter
        + "]";
  }

  /** Builds a {@link RetryPolicy}. */
  public static final class Builder {
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    private double multiplier = DEFAULT_MULTIPLIER;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private Duration jitter = DEFAULT_JITTER;
    private final Set<Class<? extends Throwable>> nonRetryable = new LinkedHashSet<>();

    private Builder() {
      nonRetryable.add(NonRetryableException.class);
      nonRetryable.add(ClassCastException.class);
      nonRetryable.add(com.fasterxml.jackson.core.JsonProcessingException.class);
    }

    /** Deliveries in total, the first included; 1 disables retries. */
    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** Wait before the second attempt. */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = initialBackoff;
      return this;
    }

    /** Growth factor of the wait, at least 1. */
    public Builder multiplier(double multiplier) {
      this.multiplier = multiplier;
      return this;
    }

    /** Cap of one wait. */
    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = maxBackoff;
      return this;
    }

    /** Jitter bound; zero disables jitter. */
    public Builder jitter(Duration jitter) {
      this.jitter = jitter;
      return this;
    }

    /**
     * Adds an exception type that is dead-lettered at once. {@link NonRetryableException}, {@link
     * ClassCastException} and Jackson's {@code JsonProcessingException} are non-retryable by
     * default.
     */
    public Builder nonRetryable(Class<? extends Throwable> type) {
      nonRetryable.add(type);
      return this;
    }

    /** Validates every setting and reports all problems at once. */
    public RetryPolicy build() {
      List<String> problems = new ArrayList<>();
      if (maxAttempts < 1) {
        problems.add("maxAttempts: " + maxAttempts + " must be at least 1 (1 = no retries)");
      }
      if (initialBackoff == null || initialBackoff.isNegative()) {
        problems.add(
            "initialBackoff: " + initialBackoff + " must be zero or positive, e.g. PT0.2S");
      }
      if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
        problems.add("multiplier: " + multiplier + " must be a finite number >= 1, e.g. 2.0");
      }
      if (maxBackoff == null || maxBackoff.isNegative()) {
        problems.add("maxBackoff: " + maxBackoff + " must be zero or positive, e.g. PT10S");
      } else if (initialBackoff != null && maxBackoff.compareTo(initialBackoff) < 0) {
        problems.add(
            "maxBackoff: "
                + maxBackoff
                + " is below initialBackoff "
                + initialBackoff
                + "; raise it");
      }
      if (jitter == null || jitter.isNegative()) {
        problems.add("jitter: " + jitter + " must be zero or positive, e.g. PT0.05S");
      }
      Validation.throwIfAny("RetryPolicy", problems);
      return new RetryPolicy(this);
    }
  }
}
