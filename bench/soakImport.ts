// `npm run soak -- --import [--mutations N] [--seed S]`: the long form of issue 22's import soak (the short form is
// test/reliability/importMutations.test.ts): N random mutations (default 1000) of config.json or the safetensors header
// of the OLMoE fixture, each imported by dist/cli.js under a 60 s spawn timeout and a 512 MB V8 heap. Prints the
// outcomes (imported, refused with exit 2, failures: a hang, another exit code, a stack trace, something left behind),
// the slowest import and the first failures with the mutation that caused them, so any of them can be replayed.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../server/steering/prng';
import { mutateCheckpoint } from '../test/support/checkpointMutations';
import { freshCheckpoint, hasStackTrace, leftovers, runImport } from '../test/support/hostileCheckpoints';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MUTATIONS = arg('--mutations', process.argv.includes('--quick') ? 200 : 1000);
const SEED = arg('--seed', 2222);

const r = mulberry32(SEED);
const counts = { imported: 0, refused: 0, failures: 0 };
const failures: string[] = [];
let slowest = { ms: 0, what: '' };
const t0 = Date.now();
for (let i = 0; i < MUTATIONS; i++) {
  const { root, hf } = freshCheckpoint('moe-lens-import-soak-');
  try {
    const what = mutateCheckpoint(hf, r);
    const out = join(root, 'out');
    const t = Date.now();
    const run = runImport(hf, out, { timeoutMs: 60000, heapMb: 512 });
    const ms = Date.now() - t;
    if (ms > slowest.ms) slowest = { ms, what };
    const problem = run.timedOut ? 'did not end within 60 s'
      : run.status !== 0 && run.status !== 2 ? `exit ${run.status ?? run.signal}`
      : hasStackTrace(run.stderr) ? 'a stack trace'
      : run.status === 2 && existsSync(out) ? 'OUT_DIR left after a refusal'
      : leftovers(root).length ? 'a temporary folder left'
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
console.log(`import soak: seed ${SEED}, ${MUTATIONS} mutations in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${counts.imported} imported, ${counts.refused} refused (exit 2), ${counts.failures} failures; slowest ${slowest.ms} ms (${slowest.what})`);
for (const f of failures) console.log(f);
process.exit(counts.failures ? 1 : 0);
