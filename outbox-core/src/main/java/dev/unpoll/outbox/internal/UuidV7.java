package dev.unpoll.outbox.internal;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * UUID version 7 (RFC 9562, section 5.7): 48 bits of Unix milliseconds, version {@code 0111}, 12
 * bits {@code rand_a} used as a counter (RFC 9562 section 6.2, method 1), variant {@code 10}, 62
 * random bits. Monotonic within this JVM: ids from one generator strictly increase, also within one
 * millisecond (the counter starts at a random value below 2048 each new millisecond and, if it ever
 * overflows, borrows the next millisecond) and when the clock steps back.
 */
public final class UuidV7 {
  private static final UuidV7 DEFAULT = new UuidV7(Clock.systemUTC());
  private static final ThreadLocal<SecureRandom> RANDOM =
      ThreadLocal.withInitial(SecureRandom::new);

  private final Clock clock;

  /** Last (millis << 12 | counter) handed out. */
  private final AtomicLong last = new AtomicLong();

  /** A generator reading {@code clock}; tests use a fixed clock. */
  public UuidV7(Clock clock) {
    this.clock = clock;
  }

  /** The next id of the JVM-wide generator (system clock). */
  public static UUID next() {
    return DEFAULT.generate();
  }

  /** The next id: strictly greater than every earlier id of this generator. */
  public UUID generate() {
    SecureRandom random = RANDOM.get();
    long now = clock.millis() & 0xFFFF_FFFF_FFFFL;
    long candidate = (now << 12) | random.nextInt(2048);
    long prev;
    long next;
    do {
      prev = last.get();
      next = (prev >>> 12) < now ? candidate : prev + 1;
    } while (!last.compareAndSet(prev, next));
    long msb = ((next >>> 12) << 16) | 0x7000L | (next & 0xFFFL);
    long lsb = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb);
  }

  /** The Unix milliseconds in a version-7 UUID. */
  public static long millis(UUID id) {
    return id.getMostSignificantBits() >>> 16;
  }
}
