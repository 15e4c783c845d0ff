package dev.unpoll.cli;

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
 * Rules over every module's production classes (all of them are on this module's test classpath):
 * no module uses another module's {@code internal} packages, and the command has no package cycles.
 * These rules run in {@code ./mvnw verify}.
 */
class ArchitectureTest {
  private static final JavaClasses ALL =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.unpoll");

  @Test
  void relayInternalsAreUsedOnlyByTheRelay() {
    internalsOnlyFrom("relay");
  }

  @Test
  void consumerInternalsAreUsedOnlyByTheConsumerAdapters() {
    internalsOnlyFrom("consumer");
  }

  @Test
  void outboxInternalsAreUsedOnlyByTheOutbox() {
    internalsOnlyFrom("outbox");
  }

  /**
   * The engine's internals are used by the engine alone: the {@code unpoll} command, the demo and
   * services call its public types ({@code dev.unpoll.migration} and {@code
   * dev.unpoll.migration.engine}).
   */
  @Test
  void engineInternalsAreUsedOnlyByTheEngine() {
    internalsOnlyFrom("migration");
  }

  /** Every package of the command is a slice, {@code dev.unpoll.cli} itself included. */
  @Test
  void commandPackagesHaveNoCycles() {
    slices()
        .assignedFrom(
            new SliceAssignment() {
              @Override
              public SliceIdentifier getIdentifierOf(JavaClass c) {
                return c.getPackageName().equals("dev.unpoll.cli")
                        || c.getPackageName().startsWith("dev.unpoll.cli.")
                    ? SliceIdentifier.of(c.getPackageName())
                    : SliceIdentifier.ignore();
              }

              @Override
              public String getDescription() {
                return "every package of dev.unpoll.cli";
              }
            })
        .should()
        .beFreeOfCycles()
        .because("a package cycle makes the command one knot that cannot be split")
        .check(ALL);
  }

  private static void internalsOnlyFrom(String module) {
    String home = "dev.unpoll." + module + "..";
    noClasses()
        .that()
        .resideOutsideOfPackage(home)
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.unpoll." + module + ".internal..")
        .because("dev.unpoll." + module + ".internal is that module's own; use its public API")
        .check(ALL);
  }
}
