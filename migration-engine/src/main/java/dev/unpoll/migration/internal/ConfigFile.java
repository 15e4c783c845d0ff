package dev.unpoll.migration.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.ConfigException;
import dev.unpoll.contract.config.ConfigReader;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.MigrationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The configuration file as the engine reads it: the relay's own reader ({@link ConfigReader}) in
 * its partial mode, so every setting the file has is checked exactly as the relay checks it, and
 * what it lacks comes from the command's options.
 *
 * @param path the file
 * @param content what it says
 */
public record ConfigFile(Path path, UnpollConfig.Partial content) {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /**
   * Reads the file; a missing, unreadable or invalid file is a usage error listing every problem.
   */
  public static ConfigFile read(Path path, Map<String, String> env) {
    String text;
    try {
      text = Files.readString(path);
    } catch (NoSuchFileException e) {
      throw MigrationException.usage("--config: file " + path + " does not exist");
    } catch (IOException e) {
      throw MigrationException.usage("--config: cannot read " + path + ": " + e.getMessage());
    }
    try {
      return new ConfigFile(path, new ConfigReader(env).readPartial(text));
    } catch (ConfigException e) {
      throw MigrationException.usage("--config: " + path + ": " + e.getMessage());
    }
  }

  /** The table mappings. */
  public List<TableMapping> tables() {
    return content.tables();
  }

  /** The mapping of {@code table}, if the file has one. */
  public Optional<TableMapping> mapping(TableName table) {
    return content.mapping(table);
  }
}
