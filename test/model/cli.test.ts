import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoutingResult } from '../../common/protocol';
import { checkInvariants } from '../support/invariants';
import { distDir } from '../support/paths';

/** The CLI as a user runs it: the built dist/cli.js in its own process. */
describe('moe-lens CLI', function () {
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-cli-'));
  const text = 'def add(a, b):\n    return a + b  # 😀\r\n';
  const file = join(dir, 'sample.py');
  writeFileSync(file, text);
  const cli = join(distDir, 'cli.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input: text });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('route --json prints the moeLens/routing shape', () => {
    const r = run('route', file, '--json', '--provider', 'cpu');
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as RoutingResult;
    checkInvariants(res, text);
    assert.deepEqual(Object.keys(res.model).sort(), ['contextLength', 'executionProvider', 'experts', 'layers', 'name', 'topK', 'vocabSize']);
    assert.equal(res.model.executionProvider, 'cpu');
    assert.equal(res.steered, false);
    assert.equal(res.windows, 1);
    assert.ok(res.tokens > 5);
    // "-" reads standard input: same result
    const stdin = JSON.parse(run('route', '-', '--json', '--provider', 'cpu').stdout) as RoutingResult;
    assert.deepEqual(stdin.experts, res.experts);
  });

  it('--max-tokens truncates', () => {
    const res = JSON.parse(run('route', file, '--json', '--max-tokens', '3').stdout) as RoutingResult;
    assert.equal(res.tokens, 3);
    assert.equal(res.truncated, true);
  });

  it('route prints a coloured heatmap, a legend and a summary line', () => {
    const r = run('route', file, '--layer', '2');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\x1b\[48;5;\d+;38;5;\d+mdef/);
    const plain = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    assert.ok(plain.startsWith('def add(a, b):\n    return a + b  # 😀\n'), JSON.stringify(plain.slice(0, 60))); // CR dropped before LF
    assert.match(plain, /top-1 expert at layer 2 \(share of tokens, top-1\)/);
    const shares = [...plain.matchAll(/ E\s?(\d+) \s+(\d+\.\d)%/g)];
    assert.equal(shares.length, 16);
    const total = shares.reduce((a, m) => a + Number(m[2]), 0);
    assert.ok(Math.abs(total - 100) < 1, `shares add up to ${total}`);
    assert.match(plain, /moe-lens-\S+ · cpu · \d+ tokens · \d+ ms\n$/);
  });

  it('--help prints the usage and exits 0', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: moe-lens route FILE/);
  });

  it('clear errors with exit code 2: no command, unknown option, missing file, bad layer, broken model, bad provider', () => {
    const cases: [string[], RegExp][] = [
      [[], /no command given/],
      [['route', file, '--colour'], /unknown option --colour/],
      [['route', join(dir, 'none.py')], /no such file/],
      [['route', file, '--layer', '9'], /--layer must be 0–3/],
      [['route', file, '--layer', 'x'], /--layer must be a non-negative integer/],
      [['route', file, '--max-tokens', '0'], /--max-tokens must be a positive integer/],
      [['route', file, '--model', dir], /cannot load the model in .*: moe\.json: file is missing/],
      [['route', file, '--provider', 'tpu'], /--provider must be one of auto, cuda, webgpu, cpu/],
    ];
    for (const [args, re] of cases) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});
