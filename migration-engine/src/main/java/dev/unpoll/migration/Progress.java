package dev.unpoll.migration;

/**
 * Where the engine reports progress of long work (reading a topic, counting rows). The engine never
 * renders it; the caller decides (the {@code unpoll} command rewrites one line on a terminal).
 */
public interface Progress {
  /** No progress reporting. */
  Progress NONE =
      new Progress() {
        @Override
        public void update(String what, long done, long total) {}

        @Override
        public void done() {}
      };

  /** Reports {@code done} of {@code total} (total ≤ 0: unknown) for the work named {@code what}. */
  void update(String what, long done, long total);

  /** The work reported so far is finished. */
  void done();
}
