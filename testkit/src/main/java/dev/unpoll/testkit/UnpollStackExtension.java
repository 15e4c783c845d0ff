package dev.unpoll.testkit;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Hands the JVM's shared {@link UnpollStack} (or its {@link TestPostgres} / {@link TestKafka}) to
 * test constructors, lifecycle methods and test methods. The servers start once, on the first test
 * that asks, and stop when the test JVM exits.
 *
 * <pre>{@code
 * @ExtendWith(UnpollStackExtension.class)
 * class OrderRelayIT {
 *   @Test
 *   void publishesInserts(TestPostgres pg, TestKafka kafka) { ... }
 * }
 * }</pre>
 */
public final class UnpollStackExtension implements ParameterResolver {
  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == UnpollStack.class || type == TestPostgres.class || type == TestKafka.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    UnpollStack stack = UnpollStack.shared();
    Class<?> type = parameter.getParameter().getType();
    if (type == TestPostgres.class) {
      return stack.postgres();
    }
    if (type == TestKafka.class) {
      return stack.kafka();
    }
    return stack;
  }
}
