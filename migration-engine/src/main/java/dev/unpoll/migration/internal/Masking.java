package dev.unpoll.migration.internal;

import java.util.regex.Pattern;

/** Keeps secrets out of messages. */
public final class Masking {
  private static final Pattern URL_PASSWORD = Pattern.compile("(?i)([?&;]password=)[^&;]*");
  private static final Pattern USERINFO = Pattern.compile("(//[^/:@]+:)[^@/]*@");

  private Masking() {}

  /** The URL with any {@code password=} parameter or user-info password replaced by ****. */
  public static String url(String url) {
    String masked = URL_PASSWORD.matcher(url).replaceAll("$1****");
    return USERINFO.matcher(masked).replaceAll("$1****@");
  }
}
