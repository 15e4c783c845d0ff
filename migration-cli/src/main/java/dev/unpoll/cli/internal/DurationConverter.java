package dev.unpoll.cli.internal;

import dev.unpoll.migration.Durations;
import dev.unpoll.migration.MigrationException;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads a duration option (500ms, 10s, 15m, 1h, 2d) with the engine's {@link Durations}. */
public final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    try {
      return Durations.parse(value);
    } catch (MigrationException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
