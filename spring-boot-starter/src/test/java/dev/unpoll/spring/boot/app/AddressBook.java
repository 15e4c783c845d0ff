package dev.unpoll.spring.boot.app;

import org.springframework.stereotype.Component;

/** Knows where to ship, except for orders whose id starts with {@code NOWHERE-}. */
@Component
public class AddressBook {
  /** Throws for an order without an address: its shipment fails on every attempt. */
  public void check(String orderId) {
    if (orderId.startsWith("NOWHERE-")) {
      throw new IllegalStateException("no address for order " + orderId);
    }
  }
}
