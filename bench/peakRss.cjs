// Preloaded into a child process by the benchmark (node --require bench/peakRss.cjs …): at exit, writes the process's
// peak resident memory (VmHWM from /proc, MB) to the file named by MOE_LENS_BENCH_PEAK_RSS.
const { readFileSync, writeFileSync } = require('node:fs');
process.on('exit', () => {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m && process.env.MOE_LENS_BENCH_PEAK_RSS) writeFileSync(process.env.MOE_LENS_BENCH_PEAK_RSS, String(Number(m[1]) / 1024));
});
