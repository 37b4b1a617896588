// Runs every mocha suite that can run on this machine, one process per suite, and ends with the single line
// "N passed, N failed" that CI reads. `--fast` skips the suites that need a real editor (code-server).
// Suites: unit (pure functions), model (ONNX model directory), lsp (server over stdio), reliability (fuzzing,
// malformed requests, hostile model directories, kill -9 and restart, an edit burst), webview (Chromium),
// e2e (code-server + Chromium). A suite folder with no compiled tests is skipped.
// Before the suites: the gates `npm run typecheck` (tsc: esbuild strips types without checking them) and
// `npm run lint` (ESLint, including the import boundaries between the parts); each failed gate counts as a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const fast = process.argv.includes('--fast');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const suites = [
  { name: 'unit', timeout: 20000 },
  { name: 'model', timeout: 60000 },
  { name: 'lsp', timeout: 120000 },
  { name: 'reliability', timeout: 300000 },
  { name: 'webview', timeout: 120000 },
  { name: 'e2e', timeout: 600000, editor: true },
].filter((s) => (only.length ? only.includes(s.name) : !(fast && s.editor)));

/** Runs a gate (a node script with arguments); true when it passed. */
function gate(name, script, args) {
  console.log(`\n=== ${name}`);
  const r = spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' });
  if (r.status !== 0) console.log(`${name} failed (exit ${r.status}, signal ${r.signal})`);
  return r.status === 0;
}

let gateFailures = 0;
if (!gate('typecheck', 'node_modules/typescript/bin/tsc', ['-p', '.', '--noEmit'])) gateFailures++;
if (!gate('lint', 'node_modules/eslint/bin/eslint.js', ['--max-warnings', '0', '.'])) gateFailures++;

const build = spawnSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log(`0 passed, ${gateFailures + 1} failed`);
  process.exit(1);
}

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.test.js') ? [p] : [];
  });
}

let passed = 0, failed = gateFailures, skipped = 0;
const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-test-'));
for (const s of suites) {
  const specs = files(join('out', 'test', s.name));
  if (!specs.length) continue;
  console.log(`\n=== ${s.name} (${specs.length} files)`);
  const counts = join(tmp, `${s.name}.json`);
  const r = spawnSync(process.execPath, ['node_modules/mocha/bin/mocha.js', '--reporter', 'test/support/count-reporter.cjs', '--timeout', String(s.timeout), '--exit', ...specs], {
    stdio: 'inherit', env: { ...process.env, MOE_LENS_COUNTS: counts },
  });
  if (existsSync(counts)) {
    const c = JSON.parse(readFileSync(counts, 'utf8'));
    passed += c.passed; failed += c.failed; skipped += c.skipped;
    if (r.status !== 0 && c.failed === 0) failed += 1; // crashed after its tests: count the crash
  } else {
    console.log(`suite ${s.name} did not finish (exit ${r.status}, signal ${r.signal})`);
    failed += 1;
  }
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
