package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Spring Kafka is optional: the core must load and initialise with no Spring on the classpath. */
class CoreWithoutSpringTest {
  @Test
  void coreClassesLoadWithoutSpringOnTheClasspath() throws Exception {
    List<URL> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.contains(File.separator + "springframework" + File.separator)) {
        urls.add(new File(entry).toURI().toURL());
      }
    }
    try (URLClassLoader isolated =
        new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      assertThatThrownBy(() -> isolated.loadClass("org.springframework.kafka.core.KafkaTemplate"))
          .isInstanceOf(ClassNotFoundException.class);
      for (String name :
          List.of(
              "dev.unpoll.consumer.KafkaConsumerRunner",
              "dev.unpoll.consumer.IdempotentConsumer",
              "dev.unpoll.consumer.IdempotencyStore",
              "dev.unpoll.consumer.DualRunClaim",
              "dev.unpoll.consumer.LegacyRows",
              "dev.unpoll.consumer.RetryPolicy")) {
        Class<?> c = Class.forName(name, true, isolated);
        assertThat(c.getClassLoader()).isSameAs(isolated);
      }
      // building the whole plain stack touches every core class it needs
      Class<?> store = Class.forName("dev.unpoll.consumer.IdempotencyStore", true, isolated);
      Object ddl = store.getMethod("shippedDdl").invoke(null);
      assertThat((String) ddl).contains("unpoll_processed");
      Class<?> runner = Class.forName("dev.unpoll.consumer.KafkaConsumerRunner", true, isolated);
      Object builder = runner.getMethod("builder").invoke(null);
      assertThat(builder).isNotNull();
    }
  }
}
