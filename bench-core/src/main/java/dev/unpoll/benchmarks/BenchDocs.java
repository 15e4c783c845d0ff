package dev.unpoll.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Regenerates the results table of {@code docs/benchmarks.md} from {@code
 * docs/benchmarks/results.json} without running a harness (after results were copied in from a run
 * made elsewhere):
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.unpoll.benchmarks.BenchDocs [results.json]
 * </pre>
 */
public final class BenchDocs {
  private BenchDocs() {}

  public static void main(String[] args) throws Exception {
    Path results = args.length > 0 ? Path.of(args[0]) : BenchResults.DEFAULT_FILE;
    Path page = BenchResults.docOf(results);
    String table = BenchResults.table(new ObjectMapper().readTree(results.toFile()));
    Files.writeString(page, BenchResults.withTable(Files.readString(page), table));
    System.out.println("regenerated the table of " + page + " from " + results);
  }
}
