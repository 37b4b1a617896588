import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalResult, OffloadResult, PruneResult } from '../../common/pruneProtocol';
import { ModelSession } from '../../server/model/modelSession';
import { distDir, embeddedModel } from '../support/paths';

/** `moe-lens importance | prune | eval | offload` over a real process: the JSON shapes and the refusals (exit 2). */
describe('moe-lens prune, eval, offload, importance (CLI)', function () {
  this.timeout(600000);
  const dir = mkdtempSync(join(tmpdir(), 'moe-lens-prunecli-'));
  const text = readFileSync(join(embeddedModel, 'profile', 'python.txt'), 'utf8');
  const corpus = join(dir, 'corpus.py');
  const held = join(dir, 'held.py');
  writeFileSync(corpus, text.slice(0, 3000));
  writeFileSync(held, text.slice(3000, 5000));
  writeFileSync(join(dir, 'empty.txt'), '');
  const run = (...args: string[]) => spawnSync(process.execPath, [join(distDir, 'cli.js'), ...args], { encoding: 'utf8' });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('eval --json: bits per token over the same tokens as the analysis', async () => {
    const r = run('eval', held, '--json');
    assert.equal(r.status, 0, r.stderr);
    const e = JSON.parse(r.stdout) as EvalResult;
    const session = await ModelSession.load(embeddedModel, 'cpu');
    try {
      const n = session.tokenizer.encode(readFileSync(held, 'utf8')).ids.length;
      assert.equal(e.tokens, n - Math.ceil(n / session.info.contextLength), 'every token but the first of each window');
    } finally {
      await session.dispose();
    }
    assert.ok(e.bitsPerToken > 0 && e.bitsPerToken < 12);
  });

  it('prune --json: the curve, the threshold and an exported model that eval reads', () => {
    const out = join(dir, 'pruned');
    const r = run('prune', '--corpus', corpus, '--eval', held, '--keep', '8', '--criterion', 'frequency', '--draws', '2', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as PruneResult;
    assert.deepEqual(p.curve.map((c) => c.keptFraction), [1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25]);
    assert.equal(p.disabled.length, 4 * 8);
    assert.equal(p.out, out);
    assert.equal(p.curve[0].bitsPerToken, p.baselineBitsPerToken);
    for (const c of p.curve.slice(1)) assert.equal(c.randomBitsPerToken.draws.length, 2);
    const m = JSON.parse(readFileSync(join(out, 'moe.json'), 'utf8')) as { experts: number };
    assert.equal(m.experts, 8);
    const e = run('eval', '--model', out, held, '--json');
    assert.equal(e.status, 0, e.stderr);
    const half = p.curve.find((c) => c.keptFraction === 0.5)!;
    assert.ok(Math.abs((JSON.parse(e.stdout) as EvalResult).bitsPerToken - half.bitsPerToken) < 1e-3, 'the exported model measures as the steering did');
  });

  it('offload --json: SRP, SCH and the LRU curve per layer', () => {
    const r = run('offload', '--corpus', corpus, '--json');
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as OffloadResult;
    assert.equal(o.layers.length, 4);
    for (const l of o.layers) {
      assert.equal(l.lruHitRate.length, 16);
      assert.ok(l.srp > 0 && l.srp <= l.sch && l.sch <= 1);
      for (let c = 1; c < 16; c++) assert.ok(l.lruHitRate[c] >= l.lruHitRate[c - 1] - 1e-12, 'LRU hit rate grows with C (inclusion property)');
    }
  });

  it('bad input: exit 2, a clear message, nothing written', () => {
    const exists = join(dir, 'exists');
    mkdirSync(exists);
    const cases: [string[], RegExp][] = [
      [['prune', '--corpus', join(dir, 'empty.txt'), '--eval', held, '--keep', '8'], /empty/],
      [['prune', '--corpus', join(dir, 'nothing', '*.py'), '--eval', held, '--keep', '8'], /matches no file/],
      [['prune', '--corpus', corpus, '--eval', held, '--keep', '17'], /from 1 to 16/],
      [['prune', '--corpus', corpus, '--eval', held, '--keep', '1'], /below topK = 2/],
      [['prune', '--corpus', corpus, '--eval', held, '--keep', '8', '--out', exists], /already exists/],
      [['importance', '--corpus', join(dir, 'missing.txt')], /no such file/],
      [['prune', '--corpus', corpus, '--eval', held, '--keep', '8', '--out', join(dir, 'hf-out'), '--hf'], /no source-config\.json/],
    ];
    for (const [args, re] of cases) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    assert.deepEqual(readdirSync(exists), []);
    assert.ok(!existsSync(join(dir, 'hf-out')));
    assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp-')));
  });

  it('warns when the held-out text is the corpus', () => {
    const r = run('prune', '--corpus', corpus, '--eval', corpus, '--keep', '14', '--draws', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: the --eval text is the corpus/);
    assert.equal((JSON.parse(r.stdout) as PruneResult).warnings.length, 1);
    assert.ok(!existsSync(join(dir, 'pruned-none')));
  });

  it('importance --json: scores per layer × expert', () => {
    const r = run('importance', '--corpus', corpus, '--criterion', 'reap', '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { scores: number[][]; tokens: number };
    assert.equal(s.scores.length, 4);
    assert.equal(s.scores[0].length, 16);
    assert.ok(s.tokens > 500);
  });
});
