import assert from 'node:assert/strict';
import type { RoutingResult } from '../../common/protocol';
import { packRouting, unchangedTokens, unpackRouting } from '../../common/routingCodec';
import { finalBlock, windowOrder } from '../../server/analysis/incremental';

/** A made-up result: T tokens, L layers, K = 2, E experts; values that f32 cannot hold exactly (thirds). */
function result(T: number, E = 16, version = 1, steered = false, seed = 1): RoutingResult {
  const L = 3, K = 2;
  const v = (i: number) => ((i * 7919 + seed) % 97) / 3;
  return {
    model: { name: 'm', layers: L, experts: E, topK: K, executionProvider: 'cpu', contextLength: 512, vocabSize: 4096 },
    version,
    tokens: T,
    offsets: Array.from({ length: 2 * T }, (_, i) => (i >> 1) * 3 + (i & 1) * 3),
    ids: Array.from({ length: T }, (_, i) => (i * 31) % 4096),
    experts: Array.from({ length: T * L * K }, (_, i) => (i * 5 + seed) % E),
    weights: Array.from({ length: T * L * K }, (_, i) => v(i) / 40),
    entropy: Array.from({ length: T * L }, (_, i) => v(i) / 30),
    surprisal: Array.from({ length: T }, (_, i) => v(i)),
    steered,
    windows: 1,
    truncated: false,
    ...(steered ? { baselineExperts: Array.from({ length: T * L * K }, (_, i) => (i * 3) % E) } : {}),
    elapsedMs: 12,
  };
}

const close = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= 1e-6 * Math.max(1, Math.abs(b[i])));

describe('packed routing results (moeLens/routing, encoding "packed")', () => {
  it('round-trips: integers exactly, floats to float32', () => {
    for (const steered of [false, true]) {
      const r = result(50, 16, 3, steered);
      const back = unpackRouting(JSON.parse(JSON.stringify(packRouting(r))));
      assert.deepEqual([back.offsets, back.ids, back.experts, back.baselineExperts], [r.offsets, r.ids, r.experts, r.baselineExperts]);
      for (const k of ['weights', 'entropy', 'surprisal'] as const) assert.ok(close(back[k], r[k]), k);
      assert.deepEqual({ ...back, offsets: 0, ids: 0, experts: 0, weights: 0, entropy: 0, surprisal: 0, baselineExperts: 0 }, { ...r, offsets: 0, ids: 0, experts: 0, weights: 0, entropy: 0, surprisal: 0, baselineExperts: 0 });
    }
  });

  it('is several times smaller than JSON; expert ids take 2 bytes above 256 experts', () => {
    const r = result(2000);
    assert.ok(JSON.stringify(packRouting(r)).length * 2 < JSON.stringify(r).length);
    const wide = result(20, 300);
    assert.deepEqual(unpackRouting(packRouting(wide)).experts, wide.experts);
  });

  it('a delta carries only the tokens after the unchanged prefix and rebuilds the whole result', () => {
    const base = unpackRouting(packRouting(result(100)));
    const next = { ...result(101, 16, 2), elapsedMs: 3 };
    // the first 90 tokens as before (as the client holds them), then a change
    for (const [k, per] of [['offsets', 2], ['ids', 1], ['experts', 6], ['weights', 6], ['entropy', 3], ['surprisal', 1]] as const) next[k].splice(0, 90 * per, ...base[k].slice(0, 90 * per));
    next.surprisal[90] += 1;
    assert.equal(unchangedTokens(base, next), 90);
    const p = packRouting(next, base);
    assert.equal(p.packed.keep, 90);
    assert.equal(p.packed.baseVersion, 1);
    assert.ok(JSON.stringify(p).length * 5 < JSON.stringify(packRouting(next)).length);
    const back = unpackRouting(JSON.parse(JSON.stringify(p)), base);
    assert.deepEqual(back.experts, next.experts);
    assert.ok(close(back.surprisal, next.surprisal));
    assert.equal(back.version, 2);
    assert.throws(() => unpackRouting(p, { ...base, version: 7 }), /delta against version 1, but the client holds 7/);
    assert.throws(() => unpackRouting(p), /client holds none/);
    // the client still holds a partial result of that version (a prefix): too short for this delta
    assert.throws(() => unpackRouting(p, { ...base, tokens: 50, partial: true }), /keeps 90 tokens, but the client's result has 50/);
  });

  it('no delta across a change of shape (steered vs unsteered, other model)', () => {
    const base = result(10);
    assert.equal(unchangedTokens(base, { ...base, baselineExperts: base.experts }), 0);
    assert.equal(unchangedTokens(base, { ...base, model: { ...base.model, name: 'other' } }), 0);
    assert.equal(packRouting(base, base).packed.keep, 10);
  });
});

describe('window order and final blocks (visible windows first)', () => {
  it('the window on screen runs first when it is among those to run; the order is otherwise kept', () => {
    assert.deepEqual(windowOrder(0, 6, 4), [4, 0, 1, 2, 3, 5]);
    assert.deepEqual(windowOrder(0, 6, 0), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(windowOrder(3, 6, 1), [3, 4, 5]); // above the resume point: already final
    assert.deepEqual(windowOrder(0, 3, -1), [0, 1, 2]);
    assert.deepEqual(windowOrder(2, 2, 0), []);
  });

  it('the published block is the run of done windows around the anchor', () => {
    assert.deepEqual(finalBlock([false, false, false, false, true, false], 4), [4, 5]);
    assert.deepEqual(finalBlock([true, true, false, true, true, false], 4), [3, 5]);
    assert.deepEqual(finalBlock([true, true, true, true, true, false], 4), [0, 5]);
    assert.equal(finalBlock([true, false], 1), undefined);
  });
});
