// Issue 22's soak, short form (the long one: `npm run soak -- --import`): 60 random mutations of config.json or the
// safetensors header of a valid checkpoint, seed 22, each imported by the real CLI. Every import must end (a spawn
// timeout kills it otherwise: no timing is asserted), within a 512 MB V8 heap (an out-of-memory abort is exit 134),
// with exit 0 or 2 and no stack trace; a refusal leaves neither OUT_DIR nor a temporary folder.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../server/steering/prng';
import { mutateCheckpoint } from '../support/checkpointMutations';
import { freshCheckpoint, hasStackTrace, leftovers, runImport } from '../support/hostileCheckpoints';

const SEED = 22;
const MUTATIONS = 60;

describe('import soak: random checkpoint mutations (issue 22)', function () {
  this.timeout(MUTATIONS * 70000);

  it(`${MUTATIONS} mutations (seed ${SEED}): every import ends with exit 0 or 2, no stack trace, nothing left behind`, () => {
    const r = mulberry32(SEED);
    const outcomes = { ok: 0, refused: 0 };
    const failures: string[] = [];
    for (let i = 0; i < MUTATIONS; i++) {
      const { root, hf } = freshCheckpoint('moe-lens-import-soak-');
      try {
        const what = mutateCheckpoint(hf, r);
        const out = join(root, 'out');
        const run = runImport(hf, out, { timeoutMs: 60000, heapMb: 512 });
        const problem = run.timedOut ? 'did not end within 60 s'
          : run.status !== 0 && run.status !== 2 ? `exit ${run.status ?? run.signal}`
          : hasStackTrace(run.stderr) ? 'a stack trace'
          : run.status === 2 && existsSync(out) ? 'OUT_DIR left after a refusal'
          : leftovers(root).length ? 'a temporary folder left'
          : run.stderr.length > 4000 ? `a ${run.stderr.length}-character message`
          : undefined;
        if (problem) failures.push(`#${i} ${what}: ${problem}\n${run.stderr.slice(0, 1500)}`);
        else if (run.status === 0) outcomes.ok++;
        else outcomes.refused++;
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
    console.log(`      ${MUTATIONS} mutations: ${outcomes.ok} imported, ${outcomes.refused} refused (exit 2), ${failures.length} failures`);
    assert.deepEqual(failures, []);
  });
});
