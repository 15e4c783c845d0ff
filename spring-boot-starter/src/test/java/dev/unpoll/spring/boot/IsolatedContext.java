package dev.unpoll.spring.boot;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/**
 * Runs the starter in a class loader of its own ({@link OneSideOnTheClasspathTest}): it refers to
 * neither side's classes, so it loads where one of them is missing. The auto-configurations come
 * from the {@code AutoConfiguration.imports} files, by name, as in an application: so their
 * conditions are read from the class files, before any class is loaded.
 */
public final class IsolatedContext {
  private IsolatedContext() {}

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class Application {}

  /** The starter's bean names, sorted, or {@code failed: ...} with the startup failure. */
  public static String run(String... properties) {
    StringBuilder out = new StringBuilder();
    new ApplicationContextRunner()
        .withUserConfiguration(Application.class)
        .withPropertyValues(properties)
        .run(
            context -> {
              if (context.getStartupFailure() != null) {
                for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
                  out.append("failed: ").append(t).append('\n');
                }
                return;
              }
              out.append(
                  Arrays.stream(context.getBeanDefinitionNames())
                      .filter(n -> n.startsWith("unpoll") || n.startsWith("springOutbox"))
                      .filter(n -> !n.contains("."))
                      .sorted()
                      .collect(Collectors.joining(",")));
              out.append(
                  Arrays.stream(context.getBeanDefinitionNames())
                      .filter(n -> n.equals("springIdempotentConsumer"))
                      .map(n -> "," + n)
                      .collect(Collectors.joining()));
            });
    return out.toString();
  }
}
