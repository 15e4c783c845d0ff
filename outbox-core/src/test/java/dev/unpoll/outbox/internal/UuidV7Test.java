package dev.unpoll.outbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class UuidV7Test {

  @Test
  void hasVersion7AndRfcVariant() {
    for (int i = 0; i < 1000; i++) {
      UUID id = UuidV7.next();
      assertThat(id.version()).isEqualTo(7);
      assertThat(id.variant()).isEqualTo(2); // IETF variant, bits 10
    }
  }

  @Test
  void carriesTheClockMillisecondsInTheFirst48Bits() {
    Instant at = Instant.parse("2026-11-21T19:56:52.123Z");
    UUID id = new UuidV7(Clock.fixed(at, ZoneOffset.UTC)).generate();
    assertThat(UuidV7.millis(id)).isEqualTo(at.toEpochMilli());
    assertThat(id.toString()).startsWith(String.format("%08x", at.toEpochMilli() >>> 16));
  }

  @Test
  void strictlyIncreasesWithinOneMillisecondEvenPastTheCounterRange() {
    UuidV7 gen = new UuidV7(Clock.fixed(Instant.parse("2026-11-21T00:00:00Z"), ZoneOffset.UTC));
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) { // more than 4096: the counter borrows the next millisecond
      ids.add(gen.generate());
    }
    for (int i = 1; i < ids.size(); i++) {
      assertThat(compareUnsigned(ids.get(i - 1), ids.get(i))).isNegative();
      assertThat(ids.get(i - 1).toString()).isLessThan(ids.get(i).toString());
    }
  }

  @Test
  void staysMonotonicWhenTheClockStepsBack() {
    AtomicLong millis = new AtomicLong(1_800_000_000_000L);
    Clock clock =
        new Clock() {
          @Override
          public ZoneOffset getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
          }
        };
    UuidV7 gen = new UuidV7(clock);
    UUID before = gen.generate();
    millis.addAndGet(-5_000);
    UUID after = gen.generate();
    assertThat(compareUnsigned(before, after)).isNegative();
  }

  @Test
  void laterMillisecondsSortLater() {
    UUID a = new UuidV7(Clock.fixed(Instant.ofEpochMilli(1000), ZoneOffset.UTC)).generate();
    UUID b = new UuidV7(Clock.fixed(Instant.ofEpochMilli(1001), ZoneOffset.UTC)).generate();
    assertThat(compareUnsigned(a, b)).isNegative();
  }

  @Test
  void concurrentGenerationYieldsUniqueIds() throws Exception {
    UuidV7 gen = new UuidV7(Clock.systemUTC());
    List<Thread> threads = new ArrayList<>();
    List<List<UUID>> perThread = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      List<UUID> mine = new ArrayList<>();
      perThread.add(mine);
      threads.add(
          new Thread(
              () -> {
                for (int i = 0; i < 5_000; i++) {
                  mine.add(gen.generate());
                }
              }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    HashSet<UUID> all = new HashSet<>();
    perThread.forEach(all::addAll);
    assertThat(all).hasSize(20_000);
  }

  private static int compareUnsigned(UUID a, UUID b) {
    int c = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
    return c != 0
        ? c
        : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
  }
}
