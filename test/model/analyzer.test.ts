import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoutingResult } from '../../common/protocol';
import { analyzeText, CancelledError } from '../../server/analysis/analyzer';
import { ModelSession } from '../../server/model/modelSession';
import { checkInvariants } from '../support/invariants';
import { embeddedModel, distDir } from '../support/paths';

describe('document analysis on the embedded model', function () {
  let s: ModelSession;
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
  });
  after(() => s.dispose());

  it('a small code file: invariants hold and hold for every layer', async () => {
    const text = 'import os\n\ndef main():\n    print(os.getcwd())  # 😀 中文\r\n';
    const r = await analyzeText(s, text, 3, { maxTokens: 4096, rules: [] });
    assert.equal(r.version, 3);
    assert.equal(r.windows, 1);
    assert.equal(r.truncated, false);
    assert.equal(r.steered, false);
    checkInvariants(r, text);
  });

  it('texts longer than the context are analysed in windows', async () => {
    const text = 'for (let i = 0; i < n; i++) { total += values[i] * 2; }\n'.repeat(60);
    const r = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [] });
    assert.ok(r.tokens > s.info.contextLength);
    assert.equal(r.windows, Math.ceil(r.tokens / s.info.contextLength));
    assert.equal(r.surprisal[s.info.contextLength], 0); // a window starts without history
    checkInvariants(r, text);
  });

  it('stops at maxTokens and says so', async () => {
    const text = 'word '.repeat(500);
    const r = await analyzeText(s, text, 1, { maxTokens: 50, rules: [] });
    assert.equal(r.tokens, 50);
    assert.equal(r.truncated, true);
    checkInvariants(r, text);
  });

  it('empty text, NUL bytes and lone surrogates do not throw', async () => {
    for (const text of ['', '\u0000\u0000abc\u0000', 'a\ud800b\udc00c', '\ud83d']) {
      const r = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [] });
      checkInvariants(r, text);
      if (text) assert.equal(r.offsets[2 * r.tokens - 1], text.length);
    }
  });

  it('steered results carry the unsteered experts when asked', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const base = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [] });
    const steered = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [{ layer: 0, expert: base.experts[0], mode: 'disable' }], withBaseline: true });
    assert.equal(steered.steered, true);
    assert.deepEqual(steered.baselineExperts, base.experts);
    assert.notDeepEqual(steered.experts, base.experts);
  });

  it('cancellation between windows', async () => {
    const text = 'x = 1\n'.repeat(400);
    await assert.rejects(analyzeText(s, text, 1, { maxTokens: 4096, rules: [], isCancelled: () => true }), CancelledError);
  });
});

describe('moe-lens CLI', function () {
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-cli-'));
  const file = join(dir, 'sample.py');
  writeFileSync(file, 'def add(a, b):\n    return a + b\n');
  const cli = join(distDir, 'cli.js');

  it('route --json prints the moeLens/routing shape', () => {
    const r = spawnSync(process.execPath, [cli, 'route', file, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as RoutingResult;
    checkInvariants(res, 'def add(a, b):\n    return a + b\n');
    assert.equal(res.model.layers, 4);
  });
  it('route prints a coloured heatmap with a legend', () => {
    const r = spawnSync(process.execPath, [cli, 'route', file, '--layer', '2'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\x1b\[48;5;\d+;38;5;\d+mdef/);
    assert.match(r.stdout, /top-1 expert at layer 2/);
    assert.match(r.stdout, /E15/);
  });
  it('clear errors: missing file, bad layer, broken model', () => {
    const a = spawnSync(process.execPath, [cli, 'route', join(dir, 'none.py')], { encoding: 'utf8' });
    assert.equal(a.status, 2);
    assert.match(a.stderr, /no such file/);
    const b = spawnSync(process.execPath, [cli, 'route', file, '--layer', '9'], { encoding: 'utf8' });
    assert.equal(b.status, 2);
    assert.match(b.stderr, /--layer must be 0–3/);
    const c = spawnSync(process.execPath, [cli, 'route', file, '--model', dir], { encoding: 'utf8' });
    assert.equal(c.status, 2);
    assert.match(c.stderr, /moe\.json: file is missing/);
  });
});
