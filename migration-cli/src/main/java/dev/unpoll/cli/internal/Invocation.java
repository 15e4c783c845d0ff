package dev.unpoll.cli.internal;

import java.util.Map;

/** What one run of the {@code unpoll} command gives its subcommands. */
public interface Invocation {
  /** The environment commands read (passwords, {@code ${NAME}} in the config file). */
  Map<String, String> environment();

  /** Whether stderr is a terminal (progress is shown only then). */
  boolean terminal();

  /** Whether the command is the JVM's program, so it may end the JVM with its own exit code. */
  boolean ownsProcess();
}
