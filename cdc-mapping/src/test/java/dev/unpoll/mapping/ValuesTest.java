package dev.unpoll.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.contract.KeyPart;
import java.math.BigDecimal;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

class ValuesTest {

  @Test
  void keyColumnsBecomeTheContractsKeyParts() {
    assertThat(Values.keyPart(Schema.INT64_SCHEMA, 42L)).isEqualTo(KeyPart.of(42L));
    assertThat(Values.keyPart(Decimal.schema(2), new BigDecimal("1.50")))
        .isEqualTo(KeyPart.of(new BigDecimal("1.50")));
    assertThat(
            Values.keyPart(
                SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").build(),
                "2026-11-21T14:56:52.1234-05:00"))
        .isEqualTo(new KeyPart.Text("2026-11-21T19:56:52.1234Z"));
    assertThat(
            Values.keyPart(
                SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").build(),
                1_795_291_012_000_000L))
        .isEqualTo(new KeyPart.Text("2026-11-21T19:56:52"));
    assertThat(Values.keyPart(Schema.STRING_SCHEMA, null)).isEqualTo(new KeyPart.Null());
  }

  @Test
  void exactNumericsAndVariableScaleDecimals() {
    Schema dec = Decimal.schema(2);
    assertThat(Values.writeString(Values.toJson(dec, new BigDecimal("12345678901234567890.10"))))
        .isEqualTo("12345678901234567890.10");
    Schema vsd =
        SchemaBuilder.struct()
            .name("io.debezium.data.VariableScaleDecimal")
            .field("scale", Schema.INT32_SCHEMA)
            .field("value", Schema.BYTES_SCHEMA)
            .build();
    Struct s =
        new Struct(vsd)
            .put("scale", 22)
            .put("value", new BigDecimal("0.1000000000000000000001").unscaledValue().toByteArray());
    assertThat(Values.writeString(Values.toJson(vsd, s))).isEqualTo("0.1000000000000000000001");
  }

  @Test
  void timesAndLsns() {
    Schema micro = SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").build();
    assertThat(Values.toJson(micro, 1_763_755_012_123_456L).asText())
        .isEqualTo("2025-11-21T19:56:52.123456");
    Schema date = SchemaBuilder.int32().name("io.debezium.time.Date").build();
    assertThat(Values.toJson(date, 0).asText()).isEqualTo("1970-01-01");
    assertThat(Values.isoMillis(0)).isEqualTo("1970-01-01T00:00:00.000Z");
    assertThat(Values.lsn(0x16B3748L)).isEqualTo("0/16B3748");
    assertThat(Values.lsn((3L << 32) | 0xABL)).isEqualTo("3/AB");
  }

  @Test
  void jsonColumnsAreJsonAndBytesAreBase64() {
    Schema json = SchemaBuilder.string().name("io.debezium.data.Json").build();
    assertThat(Values.writeString(Values.toJson(json, "{\"a\": [1, 2.50]}")))
        .isEqualTo("{\"a\":[1,2.50]}");
    assertThat(Values.toJson(Schema.BYTES_SCHEMA, new byte[] {1, 2, (byte) 0xff}).asText())
        .isEqualTo("AQL/");
  }
}
