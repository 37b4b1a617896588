// `npm run soak -- --import [--mutations N] [--seed S]`: the long form of issue 22's import soak (the short form is
// test/reliability/importMutations.test.ts): N random mutations (default 1000) of config.json or the safetensors header
// of the OLMoE fixture, each imported by dist/cli.js under a 60 s spawn timeout and a 512 MB V8 heap. Prints the
// outcomes (imported, refused with exit 2, failures: a hang, another exit code, a stack trace, something left behind),
// the exit codes seen, the slowest import, the largest peak RSS (bench/peakRss.cjs, for the imports that exited
// normally) and the first failures with the mutation that caused them, so any of them can be replayed.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../server/steering/prng';
import { mutateCheckpoint } from '../test/support/checkpointMutations';
import { freshCheckpoint, hasStackTrace, leftovers, runImport } from '../test/support/hostileCheckpoints';
import { repoRoot } from '../test/support/paths';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MUTATIONS = arg('--mutations', process.argv.includes('--quick') ? 200 : 1000);
const SEED = arg('--seed', 2222);

const r = mulberry32(SEED);
const counts = { imported: 0, refused: 0, failures: 0 };
const exitCodes = new Map<string, number>();
let stackTraces = 0;
const failures: string[] = [];
let slowest = { ms: 0, what: '' };
let largest = { mb: 0, what: '' };
const t0 = Date.now();
for (let i = 0; i < MUTATIONS; i++) {
  const { root, hf } = freshCheckpoint('moe-lens-import-soak-');
  try {
    const what = mutateCheckpoint(hf, r);
    const out = join(root, 'out');
    const peakFile = join(root, 'peak-rss');
    const t = Date.now();
    const run = runImport(hf, out, { timeoutMs: 60000, heapMb: 512, nodeArgs: ['--require', join(repoRoot, 'bench', 'peakRss.cjs')], env: { ...process.env, MOE_LENS_BENCH_PEAK_RSS: peakFile } });
    const ms = Date.now() - t;
    if (ms > slowest.ms) slowest = { ms, what };
    if (existsSync(peakFile)) {
      const mb = Number(readFileSync(peakFile, 'utf8'));
      if (mb > largest.mb) largest = { mb, what };
    }
    const code = run.timedOut ? 'timeout' : String(run.status ?? run.signal);
    exitCodes.set(code, (exitCodes.get(code) ?? 0) + 1);
    if (hasStackTrace(run.stderr)) stackTraces++;
    const problem = run.timedOut ? 'did not end within 60 s'
      : run.status !== 0 && run.status !== 2 ? `exit ${run.status ?? run.signal}`
      : hasStackTrace(run.stderr) ? 'a stack trace'
      : run.status === 2 && existsSync(out) ? 'OUT_DIR left after a refusal'
      : leftovers(root).length ? 'a temporary folder left'
      : run.stderr.length > 4000 ? `a ${run.stderr.length}-character message`
      : undefined;
    if (problem) {
      counts.failures++;
      if (failures.length < 20) failures.push(`#${i} ${what}: ${problem}\n${run.stderr.slice(0, 800)}`);
    } else if (run.status === 0) counts.imported++;
    else counts.refused++;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  if ((i + 1) % 100 === 0) console.log(`  ${i + 1} / ${MUTATIONS}: ${JSON.stringify(counts)}`);
}
const codes = [...exitCodes].sort().map(([c, n]) => `${c}: ${n}`).join(', ');
console.log(`import soak: seed ${SEED}, ${MUTATIONS} mutations in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${counts.imported} imported, ${counts.refused} refused (exit 2), ${counts.failures} failures`);
console.log(`  exit codes: ${codes}; stack traces: ${stackTraces}`);
console.log(`  slowest ${slowest.ms} ms (${slowest.what}); largest peak RSS ${largest.mb.toFixed(0)} MB (${largest.what})`);
for (const f of failures) console.log(f);
process.exit(counts.failures ? 1 : 0);
