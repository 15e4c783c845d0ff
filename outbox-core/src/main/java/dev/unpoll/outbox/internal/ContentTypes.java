package dev.unpoll.outbox.internal;

import java.util.Locale;

/** Classifies content types the way the wire contract needs. */
public final class ContentTypes {
  private ContentTypes() {}

  /** {@code application/json} or any {@code .../...+json}, parameters ignored. */
  public static boolean isJson(String contentType) {
    String base = base(contentType);
    return base.equals("application/json") || base.endsWith("+json");
  }

  /** The type without parameters, lower case: {@code text/plain; charset=utf-8} → text/plain. */
  public static String base(String contentType) {
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi))
        .trim()
        .toLowerCase(Locale.ROOT);
  }
}
