package dev.unpoll.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.sql.SQLException;
import org.apache.kafka.connect.errors.RetriableException;
import org.junit.jupiter.api.Test;

class SourceErrorsTest {

  private static RetriableException asDebeziumQueuesIt(Throwable cause) {
    return new RetriableException(
        "An exception occurred in the change event producer. This connector will be restarted.",
        cause);
  }

  @Test
  void aPublicationMissingAsOfADecodedChangeIsNotTransient() {
    SQLException e =
        new SQLException(
            "ERROR: publication \"unpoll\" does not exist\n  Where: slot \"unpoll\", output"
                + " plugin \"pgoutput\", in the change callback, associated LSN 0/1A2B3C4",
            "42704");
    assertThat(SourceErrors.nonTransient(asDebeziumQueuesIt(e))).contains(e);
    assertThat(SourceErrors.missingPublication(e)).isTrue();
  }

  @Test
  void aMissingPrivilegeIsNotTransientButNoSlotProblem() {
    SQLException e = new SQLException("ERROR: permission denied for table t", "42501");
    assertThat(SourceErrors.nonTransient(asDebeziumQueuesIt(e))).contains(e);
    assertThat(SourceErrors.missingPublication(e)).isFalse();
  }

  @Test
  void connectionServerAndSlotInUseErrorsAreRetried() {
    for (String state : new String[] {"08006", "57P01", "57P03", "55006", "53300", "XX000"}) {
      assertThat(SourceErrors.nonTransient(asDebeziumQueuesIt(new SQLException("x", state))))
          .as(state)
          .isEmpty();
    }
    assertThat(SourceErrors.nonTransient(asDebeziumQueuesIt(new SQLException("no state"))))
        .isEmpty();
    assertThat(SourceErrors.nonTransient(asDebeziumQueuesIt(new IOException("reset")))).isEmpty();
  }
}
