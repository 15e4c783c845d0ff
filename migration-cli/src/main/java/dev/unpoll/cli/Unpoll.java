package dev.unpoll.cli;

import dev.unpoll.cli.internal.ExitCode;
import dev.unpoll.cli.internal.Invocation;
import dev.unpoll.cli.internal.command.AnalyzeCommand;
import dev.unpoll.cli.internal.command.BaseCommand;
import dev.unpoll.cli.internal.command.DemoCommand;
import dev.unpoll.cli.internal.command.DevCommand;
import dev.unpoll.cli.internal.command.DoctorCommand;
import dev.unpoll.cli.internal.command.PhaseCommands;
import dev.unpoll.cli.internal.command.PlanCommand;
import dev.unpoll.cli.internal.command.RelayCommand;
import dev.unpoll.cli.internal.command.StatusCommand;
import dev.unpoll.cli.internal.command.TailCommand;
import dev.unpoll.cli.internal.command.VerifyCommand;
import dev.unpoll.migration.MigrationException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code unpoll} command: drives a legacy polling table to Kafka events one phase at a time.
 * {@link #main} runs it as a program; {@link #commandLine} gives the picocli object for embedding
 * and tests ({@code commandLine(env, false).execute(args)}).
 */
@Command(
    name = "unpoll",
    mixinStandardHelpOptions = true,
    versionProvider = Unpoll.Version.class,
    description = {
      "Retire database-table polling, one table at a time: analyze, capture, shadow, dual,"
          + " cutover, retire, with a verified gate and a rollback at every step."
    },
    subcommands = {
      DoctorCommand.class,
      AnalyzeCommand.class,
      PlanCommand.class,
      PhaseCommands.Capture.class,
      PhaseCommands.Shadow.class,
      PhaseCommands.Dual.class,
      PhaseCommands.Cutover.class,
      PhaseCommands.Retire.class,
      PhaseCommands.Rollback.class,
      VerifyCommand.class,
      StatusCommand.class,
      TailCommand.class,
      dev.unpoll.cli.internal.command.DltCommand.class,
      RelayCommand.class,
      dev.unpoll.cli.internal.command.ConnectConfigCommand.class,
      dev.unpoll.cli.internal.command.GrantsCommand.class,
      DevCommand.class,
      DemoCommand.class,
      dev.unpoll.cli.internal.command.BenchCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Docs: docs/cli.md (commands, JSON fields), docs/playbook.md (one table, step by step)."
    })
public final class Unpoll implements Runnable, Invocation {
  private final Map<String, String> environment;
  private final boolean terminal;
  private final boolean ownsProcess;

  @Spec CommandSpec spec;

  private Unpoll(Map<String, String> environment, boolean terminal, boolean ownsProcess) {
    this.environment = Map.copyOf(environment);
    this.terminal = terminal;
    this.ownsProcess = ownsProcess;
  }

  /** Runs the command with the process's environment and exits with its exit code. */
  public static void main(String... args) {
    System.exit(commandLine(System.getenv(), System.console() != null, true).execute(args));
  }

  /** Runs the command with the process's environment and streams; returns the exit code. */
  public static int execute(String... args) {
    return commandLine(System.getenv(), System.console() != null).execute(args);
  }

  /**
   * The configured picocli command line.
   *
   * @param environment the environment variables (passwords, {@code ${NAME}} in the config file)
   * @param terminal whether stderr is a terminal (progress is shown only then)
   */
  public static CommandLine commandLine(Map<String, String> environment, boolean terminal) {
    return commandLine(environment, terminal, false);
  }

  /**
   * Like {@link #commandLine(Map, boolean)}; {@code ownsProcess} says the command is the JVM's
   * program (the {@code unpoll} process), so a long-running command such as {@code relay} may end
   * the JVM with its own exit code when it is stopped by a signal.
   */
  public static CommandLine commandLine(
      Map<String, String> environment, boolean terminal, boolean ownsProcess) {
    Objects.requireNonNull(environment, "environment");
    CommandLine cl = new CommandLine(new Unpoll(environment, terminal, ownsProcess));
    cl.setExecutionExceptionHandler(Unpoll::handleException);
    cl.setParameterExceptionHandler(Unpoll::handleParameterException);
    cl.setUsageHelpAutoWidth(true);
    documentExitCodes(cl);
    return cl;
  }

  /** Every command without its own list prints the one declared in {@link ExitCode}. */
  private static void documentExitCodes(CommandLine cl) {
    var usage = cl.getCommandSpec().usageMessage();
    if (usage.exitCodeList().isEmpty()) {
      usage.exitCodeListHeading(ExitCode.HEADING);
      usage.exitCodeList(ExitCode.helpList());
    }
    cl.getSubcommands().values().forEach(Unpoll::documentExitCodes);
  }

  /** The environment commands read. */
  @Override
  public Map<String, String> environment() {
    return environment;
  }

  /** Whether progress may be shown. */
  @Override
  public boolean terminal() {
    return terminal;
  }

  /**
   * Whether this command is the JVM's program (see {@link #commandLine(Map, boolean, boolean)}).
   */
  @Override
  public boolean ownsProcess() {
    return ownsProcess;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a command is required (try: unpoll doctor --help)");
  }

  private static int handleException(
      Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
    boolean verbose = false;
    boolean json = false;
    if (cmd.getCommand() instanceof BaseCommand) {
      BaseCommand b = (BaseCommand) cmd.getCommand();
      verbose = b.verbose();
      json = b.json();
    }
    int code = ExitCode.FAILURE.code();
    String message;
    if (ex instanceof MigrationException) {
      code = ExitCode.of(((MigrationException) ex).kind()).code();
      message = ex.getMessage();
    } else {
      message = "unexpected " + ex.getClass().getSimpleName() + ": " + ex.getMessage();
    }
    PrintWriter err = cmd.getErr();
    err.println("unpoll " + cmd.getCommandName() + ": " + message);
    if (verbose) {
      ex.printStackTrace(err);
    } else if (!(ex instanceof MigrationException)) {
      err.println("(run with --verbose for the stack trace)");
    }
    err.flush();
    if (json) {
      var node = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
      node.put("error", message);
      node.put("exitCode", code);
      cmd.getOut().println(node.toString());
      cmd.getOut().flush();
    }
    return code;
  }

  private static int handleParameterException(CommandLine.ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("unpoll " + cmd.getCommandName() + ": " + ex.getMessage());
    if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
      err.println("try: " + cmd.getCommandSpec().qualifiedName() + " --help");
    }
    err.flush();
    if (java.util.Arrays.asList(args).contains("--json")) {
      var node = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
      node.put("error", ex.getMessage());
      node.put("exitCode", ExitCode.USAGE.code());
      cmd.getOut().println(node.toString());
      cmd.getOut().flush();
    }
    return ExitCode.USAGE.code();
  }

  /** The version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Unpoll.class.getPackage().getImplementationVersion();
      return new String[] {"unpoll " + (v == null ? "(development build)" : v)};
    }
  }
}
