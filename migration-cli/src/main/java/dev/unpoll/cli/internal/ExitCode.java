package dev.unpoll.cli.internal;

import dev.unpoll.migration.MigrationException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes of the {@code unpoll} command, declared once: the number, the help line every
 * command prints, and which engine {@link MigrationException.Kind} ends with which code.
 */
public enum ExitCode {
  /** Success. */
  OK(0, "ok"),
  /** Anything that is neither a usage error nor a failed check. */
  FAILURE(1, "anything else (server unreachable, wrong password, missing table, ...)"),
  /** Bad usage (picocli's own code for parameter errors). */
  USAGE(2, "usage error (unknown option, bad value, invalid table name)"),
  /** A check or a gate failed. */
  CHECK_FAILED(3, "a check or gate failed (doctor, analyze, verify, phase gates)");

  /** The heading of the exit code list in every command's help. */
  public static final String HEADING = "%nExit codes:%n";

  private final int code;
  private final String help;

  ExitCode(int code, String help) {
    this.code = code;
    this.help = help;
  }

  /** The process exit code. */
  public int code() {
    return code;
  }

  /** The help text of this code. */
  public String help() {
    return help;
  }

  /** The code an engine failure of {@code kind} ends the command with. */
  public static ExitCode of(MigrationException.Kind kind) {
    switch (kind) {
      case USAGE:
        return USAGE;
      case CHECK_FAILED:
        return CHECK_FAILED;
      default:
        return FAILURE;
    }
  }

  /** The exit code list of the help: code → text, in order. */
  public static Map<String, String> helpList() {
    Map<String, String> list = new LinkedHashMap<>();
    for (ExitCode c : values()) {
      list.put(String.valueOf(c.code), c.help);
    }
    return list;
  }
}
