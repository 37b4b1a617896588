// mocha reporter: the usual spec output, plus the run's counts written to MOE_LENS_COUNTS for test/run-all.mjs.
const Mocha = require('mocha');
const { writeFileSync } = require('node:fs');
class CountReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const s = this.stats;
      if (process.env.MOE_LENS_COUNTS) writeFileSync(process.env.MOE_LENS_COUNTS, JSON.stringify({ passed: s.passes, failed: s.failures, skipped: s.pending }));
    });
  }
}
module.exports = CountReporter;
