package dev.unpoll.spring.boot;

import dev.unpoll.consumer.spring.SpringIdempotentConsumer;
import java.sql.SQLException;
import java.util.Objects;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Makes a record listener idempotent: around each {@code onMessage(record, ...)} it records the
 * record's key and runs the listener in one transaction ({@link SpringIdempotentConsumer#process});
 * a record whose key is already recorded never reaches the listener. Set it on a container's {@code
 * ContainerProperties.setAdviceChain(...)}; the starter's {@value
 * UnpollKafkaAutoConfiguration#CONTAINER_FACTORY} does.
 */
public final class IdempotentListenerAdvice implements MethodInterceptor {
  private final SpringIdempotentConsumer idempotent;

  /** An advice recording keys through {@code idempotent}. */
  public IdempotentListenerAdvice(SpringIdempotentConsumer idempotent) {
    this.idempotent = Objects.requireNonNull(idempotent, "idempotent");
  }

  @Override
  public Object invoke(MethodInvocation invocation) throws Throwable {
    Object[] args = invocation.getArguments();
    if (!"onMessage".equals(invocation.getMethod().getName())
        || args.length == 0
        || !(args[0] instanceof ConsumerRecord<?, ?> record)) {
      return invocation.proceed();
    }
    Object[] result = new Object[1];
    try {
      idempotent.process(
          record,
          (event, connection) -> {
            try {
              result[0] = invocation.proceed();
            } catch (RuntimeException | Error | SQLException e) {
              throw e;
            } catch (Throwable e) {
              throw new Tunnel(e);
            }
          });
    } catch (Tunnel t) {
      throw t.getCause();
    }
    return result[0];
  }

  /** Carries a checked exception of the listener through the transaction to the container. */
  private static final class Tunnel extends RuntimeException {
    Tunnel(Throwable cause) {
      super(cause);
    }
  }
}
