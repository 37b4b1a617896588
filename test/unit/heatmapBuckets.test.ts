import assert from 'node:assert/strict';
import type { RoutingResult } from '../../common/protocol';
import { changedLayers } from '../../common/routingLayout';
import { tokenBuckets } from '../../extension/decorations/heatmapBuckets';

function result(partial: Partial<RoutingResult>): RoutingResult {
  return {
    model: { name: 'm', layers: 2, experts: 4, topK: 2, executionProvider: 'cpu', contextLength: 8, vocabSize: 10 },
    version: 1, tokens: 2, offsets: [0, 1, 1, 2], ids: [1, 2],
    experts: [3, 1, 0, 2, 2, 1, 1, 0], weights: [0.9, 0.1, 0.5, 0.5, 1, 0, 0.8, 0.2],
    entropy: [0, Math.log(4), 1, 1], surprisal: [0, 15], steered: false, windows: 1, truncated: false, elapsedMs: 0,
    ...partial,
  };
}

describe('heatmap buckets', () => {
  it('a trace: metrics it lacks and tokens it did not record stay undecorated (never a colour that reads as 0)', () => {
    const trace = result({ absent: ['weights', 'entropy', 'surprisal'], notRecorded: [0], source: { kind: 'trace', engine: 'sglang', file: 't.json' } });
    for (const m of ['gate', 'entropy', 'surprisal'] as const) assert.deepEqual([...tokenBuckets(trace, m, 0)], [-1, -1], m);
    assert.deepEqual([...tokenBuckets(trace, 'expert', 0)], [-1, 2]);
  });
  it('expert: the top-1 expert at the layer', () => {
    assert.deepEqual([...tokenBuckets(result({}), 'expert', 0)], [3, 2]);
    assert.deepEqual([...tokenBuckets(result({}), 'expert', 1)], [0, 1]);
  });
  it('entropy: share of ln E at a layer, or the mean', () => {
    assert.deepEqual([...tokenBuckets(result({}), 'entropy', 0)], [0, 3]); // 1 / ln 4 = 0.72
    assert.deepEqual([...tokenBuckets(result({}), 'entropy', 1)], [4, 3]);
    assert.deepEqual([...tokenBuckets(result({}), 'entropy', 'mean')], [2, 3]); // (0 + 1) / 2, (0.72 + 0.72) / 2
  });
  it('gate: 1/K is the lowest level, 1 the highest', () => {
    assert.deepEqual([...tokenBuckets(result({}), 'gate', 0)], [4, 4]);
    assert.deepEqual([...tokenBuckets(result({}), 'gate', 1)], [0, 3]);
  });
  it('surprisal on a 0-15 bit scale', () => {
    assert.deepEqual([...tokenBuckets(result({}), 'surprisal', 0)], [0, 4]);
  });
  it('routing change counts layers whose top-k set changed', () => {
    const r = result({ steered: true, baselineExperts: [1, 3, 0, 2, 2, 3, 1, 0] });
    assert.equal(changedLayers(r, 0), 0); // same set, other order
    assert.equal(changedLayers(r, 1), 1);
    assert.deepEqual([...tokenBuckets(r, 'change', 0)], [-1, 2]);
  });
});
