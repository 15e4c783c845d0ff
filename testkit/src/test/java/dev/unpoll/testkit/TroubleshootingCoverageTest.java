package dev.unpoll.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.source.tree.BinaryTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.ConditionalExpressionTree;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.IdentifierTree;
import com.sun.source.tree.LiteralTree;
import com.sun.source.tree.MemberSelectTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.NewClassTree;
import com.sun.source.tree.ParenthesizedTree;
import com.sun.source.tree.ReturnTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.JavacTask;
import com.sun.source.util.SourcePositions;
import com.sun.source.util.TreeScanner;
import com.sun.source.util.Trees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/troubleshooting.md has an entry for every message a user can meet, and no entry for a
 * message the code no longer has: the page cannot drift either way.
 *
 * <p><b>What is a message.</b> Every module's {@code src/main/java} is parsed with the JDK's own
 * parser (no regular expressions over Java). A message is:
 *
 * <ul>
 *   <li>the message argument of a constructor of an exception a user sees printed ({@link
 *       #EXCEPTIONS}: the engine's, the contract's, the relay's, the outbox's and consumer's
 *       exceptions and picocli's {@code ParameterException} and {@code TypeConversionException}
 *       thrown by the CLI's own code), and of {@code MigrationException.usage(..)} and {@code
 *       checkFailed(..)}. The message argument is the first argument that holds a string literal;
 *       an argument without any (a rethrow of {@code e.getMessage()}) carries a message found at
 *       its own source. {@code List.of(a, b)} given to a problem-list exception is one message per
 *       element;
 *   <li>every element added to a problem list ({@code problems.add(..)}, {@code
 *       headerProblems.add(..)}) and every {@code problem(path, value, fix)} of the config reader,
 *       read as it prints: {@code path: value; fix} (one line of "invalid configuration (N
 *       problems)");
 *   <li>every gate ({@code new Gate(name, ...)}): printed {@code [FAIL] name: detail}, keyed by
 *       {@code [FAIL] name:}; every doctor finding that is not a pass ({@code new Check(name,
 *       status, ...)} with a status other than {@code PASS}): printed {@code [FAIL] name} or {@code
 *       [WARN] name}, keyed by {@code ] name};
 *   <li>every {@code print}/{@code println} on stderr ({@code err}, {@code err()}, {@code
 *       System.err}, {@code getErr()});
 *   <li>every {@code LOG.warn}/{@code LOG.error} of the relay (its output is what an operator
 *       reads), each {@code {}} a value;
 *   <li>what the methods of {@link #MESSAGE_METHODS} return (the relay's explanation of a source
 *       error), and what a method of the same file returns when a message starts with its call
 *       ({@code notAcknowledged(m, ..)}).
 * </ul>
 *
 * <p><b>The key of a message</b> is its stable text: the string literals before the first part that
 * is not a literal (for {@code String.format} and {@code formatted}, the text before the first
 * {@code %}), whitespace collapsed, punctuation at both ends trimmed. A message that starts with a
 * variable ({@code table + " has no ..."}), or whose leading text is shorter than {@value #MIN_KEY}
 * characters, is keyed by its first literal run of at least {@value #MIN_KEY} characters. A message
 * with no such text at all is too generic to key: it must be in {@link #ALLOWED_WITHOUT_KEY}, with
 * the reason, or the test fails; nothing is skipped silently. A message built in a local variable
 * before the throw is not seen: build it in the throw.
 *
 * <p><b>An entry</b> is a level-3 heading of docs/troubleshooting.md that is one code span: the
 * message as printed ({@code ### `no database: pass --db ...`}, placeholders as {@code <table>}).
 * Each key must be in an entry's heading; each entry's heading must contain at least one key (else
 * the entry is stale). The failure names the file and line of each message without an entry and the
 * text the heading must contain.
 */
class TroubleshootingCoverageTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path DOC = ROOT.resolve("docs/troubleshooting.md");

  /** The shortest text that keys a message. */
  static final int MIN_KEY = 8;

  /**
   * Modules whose messages no user meets: the benchmarks and the samples are the project's own runs
   * and examples, not shipped for use.
   */
  static final Set<String> NOT_SHIPPED = Set.of("benchmarks", "samples");

  /** Exceptions whose message a user sees printed (simple names). */
  static final Set<String> EXCEPTIONS =
      Set.of(
          "MigrationException",
          "ConfigException",
          "RelayException",
          "RelayConfigException",
          "RelaySlotException",
          "RelayOpsException",
          "OutboxException",
          "ConsumerException",
          "NonRetryableException",
          "MissingIdempotencyKeyException",
          "TopicNotFoundException",
          "BatchFailedException",
          "ClaimNotDecidedException",
          "ParameterException",
          "TypeConversionException",
          "UnpollStarterException",
          "UnavailableValueException");

  /**
   * Messages too generic to key, by file and their literal parts joined with {@code …}, with the
   * reason each needs no entry of its own.
   */
  static final Map<String, String> ALLOWED_WITHOUT_KEY =
      Map.ofEntries(
          Map.entry(
              "Unpoll.java: unpoll …: …",
              "the prefix of every error line of the CLI (unpoll <command>: <message>); the"
                  + " messages after it have their entries"),
          Map.entry(
              "ConnectConfigCommand.java: --table: …",
              "a --table name the table-name parser refuses; the parser's own message follows it"
                  + " and has its entry (Table, column and key names)"),
          Map.entry(
              "RelayGrants.java: --role: '…' …",
              "a role name Identifiers.problem refuses (must not be empty, ...); the entry is"
                  + " under unpoll grants"),
          Map.entry(
              "OperatorGrants.java: --role: '…' …",
              "a role name Identifiers.problem refuses (must not be empty, ...); the entry is"
                  + " under unpoll grants"),
          Map.entry(
              "Unpoll.java: try: … --help",
              "the hint printed under every usage error, after the message that has the entry"),
          Map.entry(
              "Problems.java: …: … (…)",
              "the line Problems.check(bad, setting, value, fix) builds; every call is keyed"),
          Map.entry(
              "ConfigReader.java: …: …; …",
              "the line problem(path, value, fix) builds; every call is keyed"),
          Map.entry(
              "ConfigReader.java: ….table: \"…\"; …",
              "a table name the reader cannot parse: the reason is TableName's message, which has"
                  + " its entry"),
          Map.entry(
              "ConfigReader.java: ….column: \"…\"; …",
              "a column name the reader cannot parse: the reason is TableName's message, which has"
                  + " its entry"),
          Map.entry(
              "ConfigReader.java: …: \"…\"; …",
              "a column name the reader cannot parse: the reason is TableName's message, which has"
                  + " its entry"),
          Map.entry(
              "ConfigReader.java: …[…]: \"…\"; …",
              "a column of a list the reader cannot parse: the reason is TableName's message,"
                  + " which has its entry"),
          Map.entry(
              "TableName.java: … …",
              "an identifier TableName refuses: the name and the reason of Identifiers.problem"
                  + " (must not be empty, must not contain a NUL character, is longer than 63"
                  + " bytes); the troubleshooting page lists them under table names"),
          Map.entry(
              "SchemaChecker.java: user … lacks … on …: GRANT … ON … TO ...",
              "names the user, the privilege and the table, and the GRANT to run; listed under"
                  + " the outbox library in prose"),
          Map.entry(
              "UnpollConfig.java: table \"…\": …",
              "a table name given to loadMapping that TableName cannot parse: the reason is"
                  + " TableName's message, which has its entry"));

  /**
   * Methods whose returned text is printed as a message though no exception is built from it in the
   * same expression, by file: what they return is a message.
   */
  static final Map<String, Set<String>> MESSAGE_METHODS =
      Map.of("SourceErrors.java", Set.of("explain"));

  static List<Message> messages;
  static List<String> unkeyed;
  static Set<String> allowedSeen;
  static List<String> headings;

  /** One message found in the code. */
  record Message(String file, long line, String key, String printed) {
    String where() {
      return file + ":" + line;
    }
  }

  @BeforeAll
  static void read() throws IOException {
    List<Path> sources;
    try (Stream<Path> all = Files.walk(ROOT)) {
      sources =
          all.filter(p -> p.toString().endsWith(".java"))
              .filter(p -> ROOT.relativize(p).toString().contains("src/main/java/"))
              .filter(p -> !ROOT.relativize(p).toString().contains("/target/"))
              .filter(p -> !NOT_SHIPPED.contains(ROOT.relativize(p).getName(0).toString()))
              .sorted()
              .toList();
    }
    messages = new ArrayList<>();
    unkeyed = new ArrayList<>();
    allowedSeen = new TreeSet<>();
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    try (StandardJavaFileManager files =
        javac.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8)) {
      JavacTask task =
          (JavacTask)
              javac.getTask(
                  null,
                  files,
                  d -> {},
                  List.of("-proc:none"),
                  null,
                  files.getJavaFileObjectsFromPaths(sources));
      SourcePositions positions = Trees.instance(task).getSourcePositions();
      for (CompilationUnitTree unit : task.parse()) {
        String file = ROOT.relativize(Path.of(unit.getSourceFile().toUri())).toString();
        Finder finder = new Finder(unit, file, positions);
        finder.scan(unit, null);
        finder.helperReturns();
      }
    }
    headings = new ArrayList<>();
    for (String line : Files.readString(DOC).split("\n")) {
      if (line.startsWith("### `")) {
        headings.add(entryText(line));
      }
    }
  }

  @Test
  void findsTheMessagesOfEveryModule() {
    // the finder itself: a change that made it blind would pass every other test here
    assertThat(messages).hasSizeGreaterThan(150);
    assertThat(messages.stream().map(m -> m.file().substring(0, m.file().indexOf('/'))))
        .contains(
            "contract",
            "cdc-relay",
            "migration-engine",
            "migration-cli",
            "outbox-core",
            "consumer-adapters");
    assertThat(messages)
        .extracting(Message::key)
        .contains(
            "no database: pass --db jdbc:postgresql://host:5432/database (or --config unpoll.yaml)",
            "[FAIL] wal-level:",
            "] replication-privilege",
            "source.slot");
  }

  @Test
  void everyMessageInTheCodeHasAnEntry() {
    List<String> missing = new ArrayList<>();
    for (Message m : messages) {
      if (headings.stream().noneMatch(h -> h.contains(m.key()))) {
        missing.add(
            m.where()
                + ": add to docs/troubleshooting.md, under the place the user meets it, an entry"
                + " (cause, fix) headed\n      ### `"
                + m.printed()
                + "`\n    (the heading must contain: "
                + m.key()
                + ")");
      }
    }
    assertThat(missing)
        .as(
            "messages a user can meet without an entry in docs/troubleshooting.md (see the"
                + " javadoc of TroubleshootingCoverageTest for what counts)")
        .isEmpty();
  }

  @Test
  void everyEntryStillHasItsMessageInTheCode() {
    List<String> stale = new ArrayList<>();
    for (String h : headings) {
      if (messages.stream().noneMatch(m -> h.contains(m.key()))) {
        stale.add("### `" + h + "`: no message in the code has this text any more");
      }
    }
    assertThat(stale).as("stale entries of docs/troubleshooting.md").isEmpty();
  }

  @Test
  void everyMessageIsKeyedOrAllowedWithAReason() {
    assertThat(unkeyed)
        .as(
            "messages with no literal text of "
                + MIN_KEY
                + "+ characters: reword them, or add them to ALLOWED_WITHOUT_KEY with the reason")
        .isEmpty();
    assertThat(new TreeSet<>(ALLOWED_WITHOUT_KEY.keySet()))
        .as("ALLOWED_WITHOUT_KEY entries whose message is gone: remove them")
        .isEqualTo(allowedSeen);
    assertThat(ALLOWED_WITHOUT_KEY.values()).allMatch(reason -> reason.length() > 20);
  }

  /** Finds the messages of one file. */
  private static final class Finder extends TreeScanner<Void, Void> {
    private final CompilationUnitTree unit;
    private final String file;
    private final SourcePositions positions;
    private final Set<String> helpers = new TreeSet<>();

    Finder(CompilationUnitTree unit, String file, SourcePositions positions) {
      this.unit = unit;
      this.file = file;
      this.positions = positions;
      helpers.addAll(
          MESSAGE_METHODS.getOrDefault(Path.of(file).getFileName().toString(), Set.of()));
    }

    @Override
    public Void visitNewClass(NewClassTree node, Void unused) {
      String type = simpleName(node.getIdentifier());
      List<? extends ExpressionTree> args = node.getArguments();
      if (type.equals("Gate") && !args.isEmpty()) {
        keyed(node, "[FAIL] ", leadingLiteral(name(args.get(0))).strip(), ":");
      } else if (type.equals("Check") && args.size() >= 2) {
        if (!args.get(1).toString().endsWith("PASS")) {
          keyed(node, "] ", leadingLiteral(name(args.get(0))).strip(), "");
        }
      } else if (EXCEPTIONS.contains(type)
          || type.equals("IllegalArgumentException") && file.startsWith("contract/")) {
        ExpressionTree message = firstWithLiteral(args);
        ExpressionTree list =
            args.stream()
                .filter(
                    a ->
                        a instanceof MethodInvocationTree m
                            && m.getMethodSelect().toString().equals("List.of"))
                .findFirst()
                .orElse(null);
        if (list != null) {
          for (ExpressionTree a : ((MethodInvocationTree) list).getArguments()) {
            if (firstWithLiteral(List.of(a)) != null
                || leftmost(a) instanceof MethodInvocationTree) {
              message(a, a, parts(a));
            }
          }
        } else if (message != null) {
          message(message, message, parts(message));
        }
      }
      return super.visitNewClass(node, unused);
    }

    @Override
    public Void visitMethodInvocation(MethodInvocationTree node, Void unused) {
      ExpressionTree select = node.getMethodSelect();
      List<? extends ExpressionTree> args = node.getArguments();
      String name = simpleName(select);
      String receiver = select instanceof MemberSelectTree ms ? ms.getExpression().toString() : "";
      if ((name.equals("usage") || name.equals("checkFailed"))
          && receiver.endsWith("MigrationException")
          && firstWithLiteral(args) != null) {
        message(node, args.get(0), parts(args.get(0)));
      } else if (name.equals("failure")
          && (receiver.equals("Db") || receiver.isEmpty() && file.endsWith("/Db.java"))
          && firstWithLiteral(args) != null) {
        List<Part> p = new ArrayList<>(parts(args.get(0)));
        p.add(Part.text(": "));
        p.add(Part.hole("cause"));
        message(node, args.get(0), p);
      } else if (name.equals("check") && args.size() == 4 && firstWithLiteral(args) != null) {
        List<Part> p = new ArrayList<>(parts(args.get(1)));
        p.add(Part.text(": "));
        p.addAll(parts(args.get(2)));
        p.add(Part.text(" ("));
        p.addAll(parts(args.get(3)));
        p.add(Part.text(")"));
        message(node, null, p);
      } else if (name.equals("add") && receiver.matches("(?i).*problems") && args.size() == 1) {
        message(args.get(0), args.get(0), parts(args.get(0)));
      } else if (name.equals("problem") && receiver.isEmpty() && args.size() == 3) {
        List<Part> p = new ArrayList<>(parts(args.get(0)));
        p.add(Part.text(": "));
        p.addAll(parts(args.get(1)));
        p.add(Part.text("; "));
        p.addAll(parts(args.get(2)));
        message(node, null, p);
      } else if ((name.equals("error") || name.equals("warn"))
          && receiver.equals("LOG")
          && file.startsWith("cdc-relay/")
          && firstWithLiteral(args) != null) {
        message(node, null, beforeBraces(parts(args.get(0))));
      } else if ((name.equals("println") || name.equals("print"))
          && receiver.matches("(System\\.)?err(\\(\\))?|.*getErr\\(\\)")
          && args.size() == 1
          && firstWithLiteral(args) != null) {
        message(node, args.get(0), parts(args.get(0)));
      }
      return super.visitMethodInvocation(node, unused);
    }

    /** What the helpers that build messages return is a message. */
    void helperReturns() {
      Set<String> names = Set.copyOf(helpers);
      new TreeScanner<Void, Void>() {
        private boolean inHelper;

        @Override
        public Void visitMethod(MethodTree m, Void unused) {
          boolean was = inHelper;
          inHelper = names.contains(m.getName().toString());
          super.visitMethod(m, unused);
          inHelper = was;
          return null;
        }

        @Override
        public Void visitReturn(ReturnTree r, Void unused) {
          if (inHelper
              && r.getExpression() != null
              && firstWithLiteral(List.of(r.getExpression())) != null) {
            message(r, null, parts(r.getExpression()));
          }
          return super.visitReturn(r, unused);
        }
      }.scan(unit, null);
    }

    private long line(Tree t) {
      return unit.getLineMap().getLineNumber(positions.getStartPosition(unit, t));
    }

    /** A gate or a doctor finding, keyed by its name. */
    private void keyed(Tree at, String before, String name, String after) {
      if (name.isEmpty()) {
        unkeyed.add(file + ":" + line(at) + ": a gate or check whose name is not a literal");
        return;
      }
      String key = before + name + after;
      messages.add(new Message(file, line(at), key, key + " <detail>"));
    }

    /** A name given as a local variable is read from the variable's initializer. */
    private ExpressionTree name(ExpressionTree e) {
      if (e instanceof IdentifierTree id) {
        ExpressionTree[] init = {null};
        new TreeScanner<Void, Void>() {
          @Override
          public Void visitVariable(VariableTree v, Void unused) {
            if (init[0] == null && v.getName().contentEquals(id.getName())) {
              init[0] = v.getInitializer();
            }
            return super.visitVariable(v, unused);
          }
        }.scan(unit, null);
        if (init[0] != null) {
          return init[0];
        }
      }
      return e;
    }

    /**
     * Records a message; {@code expr} (may be null) is its expression: one that starts with a call
     * of a method of the same file ({@code notAcknowledged(m, ..)}) and has no key of its own is
     * keyed by what that method returns.
     */
    private void message(Tree at, ExpressionTree expr, List<Part> parts) {
      ExpressionTree bare = expr;
      while (bare instanceof ParenthesizedTree p) {
        bare = p.getExpression();
      }
      if (bare instanceof ConditionalExpressionTree c) {
        // one message per branch: cond ? "the mapping has no key" : "keyColumns: missing"
        for (ExpressionTree branch : List.of(c.getTrueExpression(), c.getFalseExpression())) {
          if (firstWithLiteral(List.of(branch)) != null) {
            message(branch, branch, parts(branch));
          }
        }
        return;
      }
      List<Part> merged = merge(parts);
      String printed =
          merged.stream()
              .map(p -> p.literal() ? p.text() : "<" + p.text() + ">")
              .collect(Collectors.joining())
              .replaceAll("\\s+", " ")
              .strip();
      String key = null;
      if (!merged.isEmpty() && merged.get(0).literal()) {
        String lead = normalize(merged.get(0).text());
        if (lead.length() >= MIN_KEY) {
          key = lead;
        }
      }
      if (key == null) {
        for (Part p : merged) {
          if (p.literal() && normalize(p.text()).length() >= MIN_KEY) {
            key = normalize(p.text());
            break;
          }
        }
      }
      if (key == null
          && expr != null
          && leftmost(expr) instanceof MethodInvocationTree call
          && call.getMethodSelect() instanceof IdentifierTree helper) {
        helpers.add(helper.getName().toString());
        return;
      }
      if (key == null) {
        String signature =
            Path.of(file).getFileName()
                + ": "
                + merged.stream()
                    .map(p -> p.literal() ? p.text() : "…")
                    .collect(Collectors.joining());
        if (ALLOWED_WITHOUT_KEY.containsKey(signature)) {
          allowedSeen.add(signature);
        } else {
          unkeyed.add(file + ":" + line(at) + ": " + signature);
        }
        return;
      }
      messages.add(new Message(file, line(at), key, printed));
    }
  }

  /** A part of a message: literal text, or a value only known when it runs (its name). */
  record Part(boolean literal, String text) {
    static Part text(String t) {
      return new Part(true, t);
    }

    static Part hole(String name) {
      return new Part(false, name);
    }
  }

  /** The parts of a string expression, in order. */
  static List<Part> parts(ExpressionTree e) {
    List<Part> out = new ArrayList<>();
    if (e instanceof ParenthesizedTree p) {
      return parts(p.getExpression());
    }
    if (e instanceof BinaryTree b && b.getKind() == Tree.Kind.PLUS) {
      out.addAll(parts(b.getLeftOperand()));
      out.addAll(parts(b.getRightOperand()));
      return out;
    }
    if (e instanceof LiteralTree l && l.getValue() != null && !(l.getValue() instanceof Number)) {
      out.add(Part.text(String.valueOf(l.getValue())));
      return out;
    }
    if (e instanceof MethodInvocationTree m) {
      String name = simpleName(m.getMethodSelect());
      if (name.equals("format") && m.getMethodSelect().toString().startsWith("String.")) {
        List<? extends ExpressionTree> args = m.getArguments();
        ExpressionTree fmt =
            args.size() > 1 && args.get(0).toString().startsWith("Locale")
                ? args.get(1)
                : args.get(0);
        return beforePercent(parts(fmt));
      }
      if (name.equals("formatted") && m.getMethodSelect() instanceof MemberSelectTree ms) {
        return beforePercent(parts(ms.getExpression()));
      }
    }
    out.add(Part.hole(holeName(e)));
    return out;
  }

  /** The parts of an SLF4J message, each {@code {}} a value. */
  private static List<Part> beforeBraces(List<Part> format) {
    List<Part> out = new ArrayList<>();
    for (Part p : format) {
      if (!p.literal()) {
        out.add(p);
        continue;
      }
      String[] pieces = p.text().split("\\{\\}", -1);
      for (int i = 0; i < pieces.length; i++) {
        if (i > 0) {
          out.add(Part.hole("value"));
        }
        out.add(Part.text(pieces[i]));
      }
    }
    return out;
  }

  /** The parts up to the first {@code %} of a format string. */
  private static List<Part> beforePercent(List<Part> format) {
    List<Part> out = new ArrayList<>();
    for (Part p : format) {
      int i = p.literal() ? p.text().indexOf('%') : -1;
      if (!p.literal() || i < 0) {
        out.add(p);
        continue;
      }
      out.add(Part.text(p.text().substring(0, i)));
      out.add(Part.hole("value"));
      return out;
    }
    return out;
  }

  /** A readable name for a value in a message: {@code settings.publication()} is publication. */
  private static String holeName(ExpressionTree e) {
    if (e instanceof ConditionalExpressionTree) {
      return "...";
    }
    String[] segments = e.toString().replaceAll("\\([^()]*\\)", "").split("\\.");
    for (int i = segments.length - 1; i >= 0; i--) {
      String s = segments[i].strip();
      if (!s.isEmpty()
          && !Set.of("quoted", "display", "dotted", "toString", "get", "orElseThrow", "getMessage")
              .contains(s)) {
        return s.equals("e") ? "cause" : s;
      }
    }
    return "cause";
  }

  private static List<Part> merge(List<Part> parts) {
    List<Part> out = new ArrayList<>();
    for (Part p : parts) {
      if (!out.isEmpty() && p.literal() && out.get(out.size() - 1).literal()) {
        out.set(out.size() - 1, Part.text(out.get(out.size() - 1).text() + p.text()));
      } else {
        out.add(p);
      }
    }
    return out;
  }

  /** The leftmost operand of a string concatenation. */
  private static ExpressionTree leftmost(ExpressionTree e) {
    if (e instanceof ParenthesizedTree p) {
      return leftmost(p.getExpression());
    }
    if (e instanceof BinaryTree b && b.getKind() == Tree.Kind.PLUS) {
      return leftmost(b.getLeftOperand());
    }
    return e;
  }

  /** The first argument holding a string literal, or null. */
  private static ExpressionTree firstWithLiteral(List<? extends ExpressionTree> args) {
    for (ExpressionTree a : args) {
      boolean[] found = {false};
      new TreeScanner<Void, Void>() {
        @Override
        public Void visitLiteral(LiteralTree node, Void unused) {
          found[0] |= node.getValue() instanceof String text && !normalize(text).isEmpty();
          return null;
        }
      }.scan(a, null);
      if (found[0]) {
        return a;
      }
    }
    return null;
  }

  /** The literal text a name expression starts with ({@code "ownership " + t} is ownership). */
  private static String leadingLiteral(ExpressionTree e) {
    List<Part> p = merge(parts(e));
    return p.isEmpty() || !p.get(0).literal() ? "" : p.get(0).text();
  }

  private static String simpleName(Tree t) {
    if (t instanceof MemberSelectTree ms) {
      return ms.getIdentifier().toString();
    }
    if (t instanceof IdentifierTree id) {
      return id.getName().toString();
    }
    String s = t.toString();
    return s.substring(s.lastIndexOf('.') + 1);
  }

  /** Whitespace collapsed; quotes and separators at both ends trimmed. */
  static String normalize(String text) {
    String s = text.replaceAll("\\s+", " ").strip();
    s = s.replaceAll("^[\\s\"'`;:,.)]+", "");
    s = s.replaceAll("[\\s\"'`;:,.(\\[]+$", "");
    return s;
  }

  /**
   * The message of an entry's heading: the code span after {@code ###}, in single backticks, or in
   * double ones when the message itself holds a backtick ({@code ### `` run `unpoll plan` ``}).
   */
  static String entryText(String heading) {
    String h = heading.substring(4).strip();
    String fence = h.startsWith("``") ? "``" : "`";
    if (!h.endsWith(fence) || h.length() < 2 * fence.length()) {
      throw new AssertionError("an entry's heading is one code span: " + heading);
    }
    return h.substring(fence.length(), h.length() - fence.length()).strip().replaceAll("\\s+", " ");
  }
}
