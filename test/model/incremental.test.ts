import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RoutingResult } from '../../common/protocol';
import { analyzeText } from '../../server/analysis/analyzer';
import { analyzeIncremental, commonPrefix, resumePoint, type IncrementalStats } from '../../server/analysis/incremental';
import { ModelSession } from '../../server/model/modelSession';
import { embeddedModel } from '../support/paths';

const maxDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

/** Same as a full pass up to float rounding: the cached forward multiplies in other shapes than the full one. */
function assertSame(inc: RoutingResult, full: RoutingResult): void {
  assert.equal(inc.tokens, full.tokens);
  assert.deepEqual(inc.ids, full.ids);
  assert.deepEqual(inc.offsets, full.offsets);
  assert.equal(inc.windows, full.windows);
  assert.equal(inc.truncated, full.truncated);
  assert.equal(inc.experts.length, full.experts.length);
  const differ = inc.experts.filter((e, i) => e !== full.experts[i]).length;
  assert.ok(differ <= Math.ceil(inc.experts.length * 0.001), `${differ} of ${inc.experts.length} expert ids differ`);
  if (differ === 0) assert.ok(maxDiff(inc.weights, full.weights) < 1e-3);
  assert.ok(maxDiff(inc.entropy, full.entropy) < 1e-3);
  assert.ok(maxDiff(inc.surprisal, full.surprisal) < 1e-2);
}

describe('pure helpers of incremental analysis', () => {
  it('commonPrefix', () => {
    assert.equal(commonPrefix([1, 2, 3], [1, 2, 4]), 2);
    assert.equal(commonPrefix([1, 2], [1, 2, 3]), 2);
    assert.equal(commonPrefix([], [1]), 0);
    assert.equal(commonPrefix([5], [6]), 0);
  });
  it('resumePoint: one token before the change, inside the window of the change', () => {
    assert.deepEqual(resumePoint(10, 20, 512), { window: 0, local: 9 });
    assert.deepEqual(resumePoint(0, 20, 512), { window: 0, local: 0 });
    assert.deepEqual(resumePoint(512, 600, 512), { window: 1, local: 0 }); // change at a window start: no history
    assert.deepEqual(resumePoint(515, 600, 512), { window: 1, local: 2 });
    assert.equal(resumePoint(20, 20, 512), undefined); // nothing changed within the new length
  });
});

describe('incremental analysis on the embedded model equals a full pass', function () {
  let s: ModelSession;
  let text = '';
  const opts = { maxTokens: 4096, rules: [] };
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
    for (const f of ['typescript_js', 'python', 'c_cpp']) text += readFileSync(join(embeddedModel, 'profile', `${f}.txt`), 'utf8');
  });
  after(() => s.dispose());

  it('a one-token edit at the end runs only the last tokens (multi-window document)', async () => {
    const base = await analyzeIncremental(s, text, 1, opts);
    assert.ok(base.result.windows > 1, 'the text spans several windows');
    assert.equal(base.caches.length, base.result.windows);
    const edited = text + 'x';
    const stats: IncrementalStats = { computed: 0, reused: 0 };
    const inc = await analyzeIncremental(s, edited, 2, opts, base, stats);
    assert.ok(stats.computed <= 4, `computed ${stats.computed} tokens`);
    assert.equal(stats.computed + stats.reused, inc.result.tokens);
    assertSame(inc.result, await analyzeText(s, edited, 2, opts));
  });

  it('an edit in the middle of a window resumes there; prev stays usable', async () => {
    const short = text.slice(0, 1500);
    const base = await analyzeIncremental(s, short, 1, opts);
    const edited = short.slice(0, 700) + ' foo(bar) ' + short.slice(700);
    const stats: IncrementalStats = { computed: 0, reused: 0 };
    const inc = await analyzeIncremental(s, edited, 2, opts, base, stats);
    assert.ok(stats.reused > 0 && stats.computed < inc.result.tokens);
    assertSame(inc.result, await analyzeText(s, edited, 2, opts));
    // base was not modified: another edit from it is right too
    const other = short + '\n// end\n';
    assertSame((await analyzeIncremental(s, other, 3, opts, base)).result, await analyzeText(s, other, 3, opts));
  });

  it('deleting at the end computes nothing; a chain of edits stays right', async () => {
    const short = text.slice(0, 900);
    let st = await analyzeIncremental(s, short, 1, opts);
    const stats: IncrementalStats = { computed: -1, reused: 0 };
    const cut = short.slice(0, 600);
    st = await analyzeIncremental(s, cut, 2, opts, st, stats);
    assertSame(st.result, await analyzeText(s, cut, 2, opts));
    assert.ok(stats.computed <= 2);
    const grown = cut + ' return value;\n}\n';
    st = await analyzeIncremental(s, grown, 3, opts, st);
    assertSame(st.result, await analyzeText(s, grown, 3, opts));
  });

  it('a steering change makes it a full pass', async () => {
    const short = text.slice(0, 400);
    const base = await analyzeIncremental(s, short, 1, opts);
    const stats: IncrementalStats = { computed: 0, reused: 0 };
    const steered = { ...opts, rules: [{ layer: 0, expert: 1, mode: 'disable' as const }] };
    const inc = await analyzeIncremental(s, short, 2, steered, base, stats);
    assert.equal(stats.reused, 0);
    assertSame(inc.result, await analyzeText(s, short, 2, steered));
    assert.ok(inc.result.steered);
  });

  it('a pass that keeps no KV caches (analyzeText) gives the same result', async () => {
    const kept = await analyzeIncremental(s, text, 1, opts);
    const bare = await analyzeIncremental(s, text, 1, { ...opts, keepCaches: false });
    assert.equal(bare.caches.length, 0);
    assert.equal(bare.bytes, 0);
    const { elapsedMs: _a, ...a } = bare.result;
    const { elapsedMs: _b, ...b } = kept.result;
    assert.deepEqual(a, b);
    const text1 = await analyzeText(s, text, 1, opts);
    assert.deepEqual(text1.experts, kept.result.experts);
    // nothing to continue from: an edit after it is a full pass
    const stats: IncrementalStats = { computed: 0, reused: 0 };
    await analyzeIncremental(s, `${text}x`, 2, opts, bare, stats);
    assert.equal(stats.reused, 0);
  });
});
