package dev.unpoll.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class HeadersTest {

  @Test
  void theSourceIsAValidUriReferenceForAnyTableName() {
    assertThat(Headers.source("shop", "public.order_integration"))
        .isEqualTo("/unpoll/shop/public.order_integration");
    String spaced = Headers.source("fin", "fin.Settlement Batch");
    assertThat(spaced).isEqualTo("/unpoll/fin/fin.Settlement%20Batch");
    String odd = Headers.source("my db", "Sales.\"Order\"/Queue ü%");
    assertThat(odd).isEqualTo("/unpoll/my%20db/Sales.%22Order%22%2FQueue%20%C3%BC%25");
    for (String s : new String[] {spaced, odd}) {
      URI u = URI.create(s);
      assertThat(u.getRawPath()).isEqualTo(s);
    }
  }
}
