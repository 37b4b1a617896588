// Runs every mocha suite that can run on this machine, one process per suite, and ends with the single line
// "N passed, N failed" that CI reads. `--fast` skips the suites that need a real editor (code-server).
// Suites: unit (pure functions), model (ONNX model directory), lsp (server over stdio), reliability (fuzzing,
// malformed requests, hostile model directories, kill -9 and restart, an edit burst), webview (Chromium),
// e2e (code-server + Chromium). A suite folder with no compiled tests is skipped.
// Before the suites: the gates `npm run typecheck` (tsc: esbuild strips types without checking them) and
// `npm run lint` (ESLint, including the import boundaries between the parts); each failed gate counts as a failure.
//
// Nothing here can hang the run: every gate and every suite runs in its own process group under a wall-clock limit
// (MOE_LENS_SUITE_LIMIT_S overrides the per-suite defaults below). A suite past its limit is killed with its whole
// group — mocha's --exit cannot end a process whose libuv thread is blocked opening a FIFO, and a suite may have
// started servers or browsers — counted as one failure, and the run goes on to the next suite.
// `--no-gates` and `--no-build` skip those steps; MOE_LENS_TEST_OUT points at another compiled test tree (the
// runner's own test plants a suite that blocks forever there).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const only = args.filter((a) => !a.startsWith('--'));
const outRoot = process.env.MOE_LENS_TEST_OUT || join('out', 'test');
const overrideS = Number(process.env.MOE_LENS_SUITE_LIMIT_S) || 0;

// timeout: mocha's per-test limit (ms); limitS: the whole suite's wall-clock limit (s), generous for a loaded 2-core
// machine (the whole run takes about 10 minutes on an idle one) yet far inside CI's 90 minutes.
const known = [
  { name: 'unit', timeout: 20000, limitS: 300 },
  { name: 'model', timeout: 60000, limitS: 1500 },
  { name: 'lsp', timeout: 120000, limitS: 900 },
  { name: 'reliability', timeout: 300000, limitS: 900 },
  { name: 'webview', timeout: 120000, limitS: 600 },
  { name: 'e2e', timeout: 600000, limitS: 1500, editor: true },
];
const suites = (only.length ? only.map((n) => known.find((s) => s.name === n) ?? { name: n, timeout: 60000, limitS: 600 }) : known)
  .filter((s) => only.length || !(fast && s.editor));

/**
 * Runs `node script ...args` in its own process group, output inherited, killed with the group after `limitS`.
 * Resolves with { status, signal, timedOut }.
 */
function runLimited(script, scriptArgs, limitS, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...scriptArgs], { stdio: 'inherit', env, detached: true });
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, limitS * 1000);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      killGroup(); // whatever the suite left running (a server, a browser) goes with it
      resolve({ status, signal, timedOut });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      console.log(`could not start ${script}: ${e.message}`);
      resolve({ status: 1, signal: null, timedOut: false });
    });
  });
}

/** Runs a gate (a node script with arguments); true when it passed. */
async function gate(name, script, gateArgs) {
  console.log(`\n=== ${name}`);
  const limitS = overrideS || 600;
  const r = await runLimited(script, gateArgs, limitS);
  if (r.timedOut) console.log(`${name} killed: it ran past its limit of ${limitS} s`);
  else if (r.status !== 0) console.log(`${name} failed (exit ${r.status}, signal ${r.signal})`);
  return r.status === 0 && !r.timedOut;
}

let gateFailures = 0;
if (!args.includes('--no-gates')) {
  if (!(await gate('typecheck', 'node_modules/typescript/bin/tsc', ['-p', '.', '--noEmit']))) gateFailures++;
  if (!(await gate('lint', 'node_modules/eslint/bin/eslint.js', ['--max-warnings', '0', '.']))) gateFailures++;
}
if (!args.includes('--no-build') && !(await gate('build', 'esbuild.mjs', []))) {
  console.log(`\n0 passed, ${gateFailures + 1} failed`);
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
  const specs = files(join(outRoot, s.name));
  if (!specs.length) continue;
  const limitS = overrideS || s.limitS;
  console.log(`\n=== ${s.name} (${specs.length} files, limit ${limitS} s)`);
  const counts = join(tmp, `${s.name}.json`);
  const mocha = ['--reporter', 'test/support/count-reporter.cjs', '--timeout', String(s.timeout), '--exit', ...specs];
  const r = await runLimited('node_modules/mocha/bin/mocha.js', mocha, limitS, { ...process.env, MOE_LENS_COUNTS: counts });
  if (r.timedOut) {
    console.log(`suite ${s.name} killed: it ran past its limit of ${limitS} s (MOE_LENS_SUITE_LIMIT_S overrides it)`);
    failed += 1;
  } else if (existsSync(counts)) {
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
