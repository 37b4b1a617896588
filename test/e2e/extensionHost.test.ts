// The extension-host suite (test/vscode/*.test.ts, mocha TDD against the vscode API) run inside code-server.
// code-server has no --extensionTestsPath flag, but its VS Code web workbench takes extensionDevelopmentPath and
// extensionTestsPath from the page URL's `payload` when the server runs with --enable-smoke-test-driver (passed as
// --vscode-option); see runExtensionTests in scripts/code-server.mjs. A suite that fails must fail here: the
// second test runs a deliberately failing entry to prove it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { copySamples, log, repoRoot } from './harness';

type Run = (o: { testsEntry: string; folder?: string; log?: (l: string) => void; onLine?: (l: string) => void }) => Promise<{ code: number | 'timeout'; lines: string[] }>;
const runExtensionTests = async (o: Parameters<Run>[0]) => ((await import(pathToFileURL(join(repoRoot, 'scripts', 'code-server.mjs')).href)) as { runExtensionTests: Run }).runExtensionTests(o);

describe('extension-host tests (test/vscode) inside code-server', function () {
  this.timeout(900000);
  const entry = join(repoRoot, 'out', 'test', 'vscode', 'index.js');

  it('run and pass', async function () {
    if (!existsSync(entry)) this.skip(); // no extension-host suite built
    const t0 = Date.now();
    const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-exthost-ws-'));
    try {
      const { code, lines } = await runExtensionTests({ testsEntry: entry, folder: copySamples(tmp), log, onLine: (l) => console.log(`      | ${l}`) });
      log(`extension host exited with ${code} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      const passing = lines.map((l) => /(\d+) passing/.exec(l)).find(Boolean);
      assert.equal(code, 0, 'the extension-host suite failed (see its output above)');
      assert.ok(passing && Number(passing[1]) > 0, 'no "N passing" line: the suite did not run');
      assert.ok(!lines.some((l) => /\d+ failing/.test(l)));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a failing extension-host test makes the run fail (the harness can fail)', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-exthost-fail-'));
    try {
      const failing = join(tmp, 'index.js');
      writeFileSync(failing, "exports.run = async () => { const vscode = require('vscode'); console.log('  1) deliberate failure in', vscode.version); throw new Error('deliberate failure'); };\n");
      const { code, lines } = await runExtensionTests({ testsEntry: failing, log });
      log(`deliberately failing entry: exit ${code}; ${lines.length} output lines`);
      assert.notEqual(code, 0);
      assert.notEqual(code, 'timeout');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
