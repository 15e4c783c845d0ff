package dev.unpoll.migration;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.Test;

/**
 * The engine is a library: no command line, no logging binding, no test servers, no demo, no relay
 * (Debezium), and no package cycles. These rules run in {@code ./mvnw verify}.
 */
class EngineArchitectureTest {
  private static final JavaClasses ENGINE =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.unpoll.migration");

  @Test
  void engineDependsOnNoCommandLineLoggingBindingTestkitOrSamples() {
    noClasses()
        .that()
        .resideInAPackage("dev.unpoll.migration..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "picocli..",
            "ch.qos.logback..",
            "dev.unpoll.testkit..",
            "dev.unpoll.samples..",
            "dev.unpoll.cli..",
            "dev.unpoll.relay..",
            "io.debezium..")
        .because(
            "the engine is a library: the unpoll command, the logging binding, the embedded"
                + " servers and the demo sit on top of it, never under it; it reads the database"
                + " and Kafka and shares only the contract with the relay, so it does not pull"
                + " Debezium into a service that embeds it")
        .check(ENGINE);
  }

  /**
   * Every package of the engine is a slice, {@code dev.unpoll.migration} itself included: a pattern
   * like {@code dev.unpoll.migration.(**)} would leave the root package out and miss the cycle
   * between the public types and the internals.
   */
  @Test
  void enginePackagesHaveNoCycles() {
    slices()
        .assignedFrom(
            new SliceAssignment() {
              @Override
              public SliceIdentifier getIdentifierOf(JavaClass c) {
                String p = c.getPackageName();
                return p.equals("dev.unpoll.migration") || p.startsWith("dev.unpoll.migration.")
                    ? SliceIdentifier.of(p)
                    : SliceIdentifier.ignore();
              }

              @Override
              public String getDescription() {
                return "every package of dev.unpoll.migration";
              }
            })
        .should()
        .beFreeOfCycles()
        .because("a package cycle makes the engine one knot that cannot be split or reasoned about")
        .check(ENGINE);
  }

  /**
   * The public value types (results, options, phases, the exception) sit under everything else:
   * they never reach into the facade or the internals, so the internals may use them.
   */
  @Test
  void publicValueTypesDependOnNeitherTheFacadeNorTheInternals() {
    noClasses()
        .that()
        .resideInAPackage("dev.unpoll.migration")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.unpoll.migration.engine..", "dev.unpoll.migration.internal..")
        .because(
            "dev.unpoll.migration holds the values every layer shares; the facade"
                + " (dev.unpoll.migration.engine) uses the internals, never the other way round")
        .check(ENGINE);
  }
}
