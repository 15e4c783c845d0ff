package dev.unpoll.cli.internal.command;

/** The exit code lines of every command's help (kept in step with the Unpoll.EXIT_* codes). */
public final class ExitCodes {
  /** Help heading. */
  public static final String HEADING = "%nExit codes:%n";

  /** Code 0. */
  public static final String OK = "0:ok";

  /** Code 1. */
  public static final String FAILURE =
      "1:anything else (server unreachable, wrong password, missing table, ...)";

  /** Code 2. */
  public static final String USAGE =
      "2:usage error (unknown option, bad value, invalid table name)";

  /** Code 3. */
  public static final String CHECK =
      "3:a check or gate failed (doctor, analyze, verify, phase gates)";

  private ExitCodes() {}
}
