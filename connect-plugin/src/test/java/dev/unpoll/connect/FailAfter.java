package dev.unpoll.connect;

import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * A test transformation chained after unpoll's: passes {@code fail.after} records, then fails the
 * task, which commits the offsets of what was delivered. Stops a task at a chosen record.
 */
public final class FailAfter implements Transformation<SourceRecord> {
  static final ConfigDef CONFIG =
      new ConfigDef()
          .define("fail.after", ConfigDef.Type.INT, ConfigDef.Importance.HIGH, "records to pass");

  private int left;

  @Override
  public void configure(Map<String, ?> configs) {
    left = new AbstractConfig(CONFIG, configs).getInt("fail.after");
  }

  @Override
  public SourceRecord apply(SourceRecord record) {
    if (record.topic().startsWith("__debezium-heartbeat")) {
      return record;
    }
    if (left-- <= 0) {
      throw new ConnectException("test: stopping the task here");
    }
    return record;
  }

  @Override
  public ConfigDef config() {
    return CONFIG;
  }

  @Override
  public void close() {}
}
