package dev.unpoll.benchmarks;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Times one consumer from the outside, the same way for every variant, through Kafka's own
 * interceptor hook ({@code interceptor.classes}): the clock starts when {@code poll()} first
 * returns records and stops when an offset commit covering the last record of the batch has
 * succeeded, which every variant does only after the database commit of that record. Group join and
 * the first fetch are outside the window.
 *
 * <p>The interceptor instance is created by the Kafka consumer; it finds its {@link Window} under
 * {@link #WINDOW} in the consumer's configuration.
 */
public final class ConsumptionProbe implements ConsumerInterceptor<byte[], byte[]> {
  /** Consumer property that carries the {@link Window} object. */
  static final String WINDOW = "unpoll.benchmark.window";

  private Window window;

  @Override
  public void configure(Map<String, ?> configs) {
    Object w = configs.get(WINDOW);
    if (!(w instanceof Window)) {
      throw new IllegalStateException(WINDOW + " must be a ConsumptionProbe.Window, got " + w);
    }
    window = (Window) w;
  }

  @Override
  public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
    if (!records.isEmpty()) {
      window.firstRecords(System.nanoTime());
    }
    return records;
  }

  @Override
  public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    OffsetAndMetadata committed = offsets.get(window.partition);
    if (committed != null && committed.offset() >= window.endOffset) {
      window.done(System.nanoTime());
    }
  }

  @Override
  public void close() {}

  /** The measurement window of one consumer on one single-partition topic. */
  static final class Window {
    final TopicPartition partition;
    final long endOffset;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile long startNanos;
    private volatile long endNanos;

    /**
     * @param endOffset the partition's end offset after the batch was produced: the window closes
     *     once this offset is committed
     */
    Window(TopicPartition partition, long endOffset) {
      this.partition = partition;
      this.endOffset = endOffset;
    }

    synchronized void firstRecords(long nanos) {
      if (startNanos == 0) {
        startNanos = nanos;
      }
    }

    synchronized void done(long nanos) {
      if (endNanos == 0) {
        endNanos = nanos;
        done.countDown();
      }
    }

    /** Waits at most {@code timeout} for the last offset's commit. */
    boolean await(Duration timeout) throws InterruptedException {
      return done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Seconds from the first records returned by poll() to the commit of the last offset. */
    double seconds() {
      if (startNanos == 0 || endNanos == 0) {
        throw new IllegalStateException("window of " + partition + " is not closed");
      }
      return (endNanos - startNanos) / 1e9;
    }
  }
}
