package dev.unpoll.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.runtime.isolation.PluginDesc;
import org.apache.kafka.connect.runtime.isolation.Plugins;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zip the build makes for {@code plugin.path}, unzipped as an operator would, is found by Kafka
 * Connect's own plugin loader, which loads the transformation in the plugin's isolated class loader
 * from that directory's jars, and it maps a change record there. Runs in the {@code package} phase,
 * after the assembly (pom.xml), which passes the zip's path.
 */
class PluginDirectoryTest {

  static final String ZIP_PROPERTY = "unpoll.connect.plugin.zip";

  @TempDir Path pluginPath;

  @Test
  @SuppressWarnings("unchecked")
  void theUnzippedPluginLoadsInItsOwnClassLoaderAndMaps() throws Exception {
    String zip = System.getProperty(ZIP_PROPERTY);
    assumeTrue(zip != null, "runs in the package phase, after the assembly (pom.xml)");
    List<String> files = unzip(Path.of(zip), pluginPath);
    assertThat(files)
        .allMatch(f -> f.startsWith("unpoll-connect/"))
        .anyMatch(f -> f.matches("unpoll-connect/unpoll-connect-.*\\.jar"))
        .anyMatch(f -> f.matches("unpoll-connect/unpoll-cdc-mapping-.*\\.jar"))
        .anyMatch(f -> f.matches("unpoll-connect/debezium-connector-postgres-.*\\.jar"))
        .noneMatch(f -> f.contains("kafka-clients") || f.contains("connect-api"))
        .noneMatch(f -> f.contains("slf4j"));

    Plugins plugins =
        new Plugins(
            Map.of("plugin.path", pluginPath.toString(), "plugin.discovery", "service_load"));
    PluginDesc<Transformation<?>> desc =
        plugins.transformations().stream()
            .filter(d -> d.className().equals(UnpollEventRouter.class.getName()))
            .filter(d -> !d.location().equals("classpath"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("not found in " + pluginPath));
    assertThat(desc.location()).contains(pluginPath.resolve("unpoll-connect").toString());
    var connector =
        plugins.sourceConnectors().stream()
            .filter(d -> d.className().equals(UnpollPostgresConnector.class.getName()))
            .filter(d -> !d.location().equals("classpath"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no connector in " + pluginPath));
    assertThat(connector.loader()).as("one plugin, one class loader").isSameAs(desc.loader());
    Class<?> isolated = desc.pluginClass();
    assertThat(isolated).as("loaded by the plugin's loader").isNotSameAs(UnpollEventRouter.class);
    assertThat(isolated.getClassLoader().loadClass("dev.unpoll.mapping.EventMapper"))
        .as("the mapping from the plugin's own jars")
        .isNotSameAs(dev.unpoll.mapping.EventMapper.class);

    Transformation<SourceRecord> t =
        (Transformation<SourceRecord>) isolated.getDeclaredConstructor().newInstance();
    t.configure(
        Map.of(
            "mapping", "tables:\n  - table: public.q\n    topic: q.events\n",
            "publication", "p"));
    SourceRecord out = t.apply(insert());
    assertThat(out.topic()).isEqualTo("q.events");
    assertThat(new String((byte[]) out.key(), StandardCharsets.UTF_8)).isEqualTo("7");
    assertThat(new String((byte[]) out.value(), StandardCharsets.UTF_8))
        .isEqualTo("{\"id\":7,\"note\":\"seven\"}");
    assertThat(
            new String(
                (byte[]) out.headers().lastWithName("ce_id").value(), StandardCharsets.UTF_8))
        .isEqualTo("public.q:7");
    t.close();
  }

  /** A Debezium PostgreSQL insert of {@code public.q} row (7, 'seven'). */
  static SourceRecord insert() {
    Schema row =
        SchemaBuilder.struct()
            .name("srv.public.q.Value")
            .optional()
            .field("id", Schema.INT32_SCHEMA)
            .field("note", Schema.OPTIONAL_STRING_SCHEMA)
            .build();
    Schema source =
        SchemaBuilder.struct()
            .name("io.debezium.connector.postgresql.Source")
            .field("db", Schema.STRING_SCHEMA)
            .field("schema", Schema.STRING_SCHEMA)
            .field("table", Schema.STRING_SCHEMA)
            .field("ts_ms", Schema.INT64_SCHEMA)
            .field("txId", Schema.OPTIONAL_INT64_SCHEMA)
            .field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
            .build();
    Schema envelope =
        SchemaBuilder.struct()
            .name("srv.public.q.Envelope")
            .field("before", row)
            .field("after", row)
            .field("source", source)
            .field("op", Schema.STRING_SCHEMA)
            .build();
    Schema key = SchemaBuilder.struct().name("srv.public.q.Key").field("id", Schema.INT32_SCHEMA);
    Struct value =
        new Struct(envelope)
            .put("after", new Struct(row).put("id", 7).put("note", "seven"))
            .put(
                "source",
                new Struct(source)
                    .put("db", "orders")
                    .put("schema", "public")
                    .put("table", "q")
                    .put("ts_ms", 1_764_633_600_000L)
                    .put("txId", 42L)
                    .put("lsn", 0x16B3748L))
            .put("op", "c");
    return new SourceRecord(
        Map.of("server", "srv"),
        Map.of("lsn", 0x16B3748L),
        "srv.public.q",
        null,
        key,
        new Struct(key).put("id", 7),
        envelope,
        value);
  }

  private static List<String> unzip(Path zip, Path into) throws IOException {
    List<String> names = new ArrayList<>();
    try (InputStream in = Files.newInputStream(zip);
        ZipInputStream z = new ZipInputStream(in)) {
      for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
        Path target = into.resolve(e.getName()).normalize();
        if (!target.startsWith(into)) {
          throw new IOException("zip entry outside the target: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(target);
        } else {
          Files.createDirectories(target.getParent());
          Files.copy(z, target);
          names.add(e.getName());
        }
      }
    }
    return names;
  }
}
