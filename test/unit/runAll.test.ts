// The test runner itself (issue 21): a suite that blocks forever is killed at its wall-clock limit, counted as a
// failure with a line naming it, and the run goes on to the next suite and ends with the closing line CI reads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFifo } from '../support/hostileModels';

describe('test/run-all.mjs', function () {
  this.timeout(120000);

  it('kills a suite that blocks forever at its limit, counts it, and finishes the run', () => {
    const root = mkdtempSync(join(tmpdir(), 'moe-lens-runall-'));
    const fifo = makeFifo(join(root, 'hung.fifo'));
    try {
      mkdirSync(join(root, 'planted'));
      mkdirSync(join(root, 'after'));
      // openSync on a FIFO with no writer blocks the main thread: no timer, no --exit, no mocha timeout can end it
      writeFileSync(join(root, 'planted', 'hang.test.js'), `it('blocks', () => { require('node:fs').openSync(${JSON.stringify(fifo)}, 'r'); });\n`);
      writeFileSync(join(root, 'after', 'pass.test.js'), `it('passes', () => {});\n`);
      const r = spawnSync(process.execPath, ['test/run-all.mjs', '--no-gates', '--no-build', 'planted', 'after'], {
        encoding: 'utf8',
        timeout: 100000,
        killSignal: 'SIGKILL',
        env: { ...process.env, MOE_LENS_TEST_OUT: root, MOE_LENS_SUITE_LIMIT_S: '3' },
      });
      assert.equal(r.signal, null, `the runner itself was killed: ${r.stdout}`);
      assert.match(r.stdout, /suite planted killed: it ran past its limit of 3 s/);
      assert.match(r.stdout, /=== after/, 'the run goes on after the killed suite');
      assert.match(r.stdout.trimEnd().split('\n').at(-1) ?? '', /^1 passed, 1 failed$/);
      assert.equal(r.status, 1);
    } finally {
      // release any reader still blocked on the FIFO (O_RDWR never blocks on Linux), then remove everything
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
      rmSync(root, { recursive: true, force: true });
    }
  });
});
