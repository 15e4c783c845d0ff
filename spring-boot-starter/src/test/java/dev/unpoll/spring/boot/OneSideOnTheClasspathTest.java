package dev.unpoll.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The starter works with only one side's library on the classpath: the test's classpath without
 * unpoll-consumer-adapters, or without unpoll-outbox-core, in a class loader of its own (a {@code
 * FilteredClassLoader} only hides classes from the conditions, while the configuration classes
 * still link against everything).
 */
class OneSideOnTheClasspathTest {
  private static final String[] PROPERTIES = {
    "spring.datasource.url=jdbc:postgresql://127.0.0.1:1/never_connected",
    "spring.kafka.consumer.group-id=shipping"
  };

  @Test
  void withoutTheConsumerAdaptersOnlyTheOutboxIsConfigured() throws Exception {
    String beans = runWithout("dev/unpoll/consumer/IdempotentConsumer.class");
    assertThat(beans)
        .isEqualTo("springOutbox,unpollOutbox,unpollOutboxHealthIndicator")
        .doesNotContain("failed");
  }

  @Test
  void withoutTheOutboxOnlyTheConsumerIsConfigured() throws Exception {
    String beans = runWithout("dev/unpoll/outbox/Outbox.class");
    assertThat(beans)
        .isEqualTo(
            "unpollIdempotencyStore,unpollIdempotencyStoreHealthIndicator,"
                + "unpollIdempotentConsumer,unpollKafkaListenerContainerFactory,"
                + "unpollRetryPolicy,springIdempotentConsumer");
  }

  @Test
  void theFullClasspathConfiguresBoth() throws Exception {
    String beans = runWithout("no/such/Resource.class");
    assertThat(beans).contains("unpollOutbox,").contains("unpollIdempotentConsumer,");
  }

  /** Runs {@link IsolatedContext} on the test classpath less the entry holding {@code resource}. */
  private static String runWithout(String resource) throws Exception {
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<URL> urls = new ArrayList<>();
    int removed = 0;
    for (String entry : classpath.split(File.pathSeparator)) {
      if (entry.isEmpty()) {
        continue;
      }
      File f = new File(entry);
      if (holds(f, resource)) {
        removed++;
        continue;
      }
      urls.add(f.toURI().toURL());
    }
    if (!resource.startsWith("no/")) {
      assertThat(removed).as("classpath entries holding " + resource).isEqualTo(1);
    }
    ClassLoader previous = Thread.currentThread().getContextClassLoader();
    try (URLClassLoader loader =
        new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      assertThat(loader.getResource(resource)).isNull();
      Thread.currentThread().setContextClassLoader(loader);
      Object result =
          loader
              .loadClass(IsolatedContext.class.getName())
              .getMethod("run", String[].class)
              .invoke(null, (Object) PROPERTIES);
      return (String) result;
    } finally {
      Thread.currentThread().setContextClassLoader(previous);
    }
  }

  private static boolean holds(File entry, String resource) throws IOException {
    if (entry.isDirectory()) {
      return new File(entry, resource).isFile();
    }
    if (!entry.isFile()) {
      return false;
    }
    try (JarFile jar = new JarFile(entry)) {
      return jar.getEntry(resource) != null;
    }
  }
}
