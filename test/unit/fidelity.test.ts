import assert from 'node:assert/strict';
import { exactAgreement, groupedTopKMargin, klPerRow, meanAbsDelta, meanTopKOverlap, quantile, topKMargin } from '../../server/routing/fidelity';
import { sampleOffsets } from '../../server/model/weightsCheck';

describe('fidelity metrics (quantised vs fp32)', () => {
  it('top-k overlap counts shared experts per row, in any order', () => {
    assert.equal(meanTopKOverlap([1, 2, 3, 4], [2, 1, 3, 5], 2), 0.75);
    assert.equal(meanTopKOverlap([1n, 2n], [3n, 4n], 2), 0);
  });

  it('exact agreement only where the fp32 margin is above the threshold (probabilities by default, or logits)', () => {
    // row 0: logits 3, 1, 0 (top-1 margin 2); row 1: a near tie 1, 0.999, 0
    const logits = [3, 1, 0, 1, 0.999, 0];
    assert.equal(topKMargin(logits, 1, 0, 3), 2);
    assert.deepEqual(exactAgreement([0, 1], [0, 0], logits, 3, 1, 1e-2, 'logit'), { rows: 1, agreement: 1 });
    assert.deepEqual(exactAgreement([0, 1], [1, 0], logits, 3, 1, 1e-2), { rows: 1, agreement: 0 });
  });

  it('a group-limited choice: the margin is the nearer of the group decision and the top-k among the kept groups', () => {
    // 3 groups of 2, 2 kept, top-2: groups scored 5, 4.9, 1 (the group decision 0.9 apart); among the kept 5, 2, 4.9, 4
    const v = [5, 2, 4.9, 4, 1, 0.5];
    assert.ok(Math.abs(groupedTopKMargin(v, 2, { groups: 3, topkGroup: 2 }) - 0.9) < 1e-12);
    // one group kept: groups 5 vs 4.9 decide (0.1), although the ungrouped top-2 margin is 4.9 − 4 = 0.9
    assert.ok(Math.abs(groupedTopKMargin(v, 2, { groups: 3, topkGroup: 1 }) - 0.1) < 1e-12);
    assert.ok(Math.abs(topKMargin(v, 2) - 0.9) < 1e-12);
    // every group kept: the plain top-k margin
    assert.ok(Math.abs(groupedTopKMargin(v, 2, { groups: 3, topkGroup: 3 }) - 0.9) < 1e-12);
    // a row the grouped margin leaves out is not counted
    assert.deepEqual(exactAgreement([0, 1], [0, 2], v, 6, 2, 0.5, 'logit', { groups: 3, topkGroup: 1 }), { rows: 0, agreement: 1 });
  });

  it('KL is 0 for equal logits, invariant to a shift, and matches a hand computation', () => {
    assert.deepEqual(klPerRow([1, 2, 3], [11, 12, 13], 3), [0]);
    const [kl] = klPerRow([0, Math.log(3)], [0, 0], 2); // P = (1/4, 3/4), Q = (1/2, 1/2)
    assert.ok(Math.abs(kl - (0.25 * Math.log(0.5) + 0.75 * Math.log(1.5))) < 1e-12);
  });

  it('quantile interpolates like numpy; mean |Δ| skips the first position', () => {
    assert.equal(quantile([1, 2, 3, 4, 5], 0.5), 3);
    assert.ok(Math.abs(quantile([0, 10], 0.99) - 9.9) < 1e-12);
    assert.equal(meanAbsDelta([0, -1, -2], [5, -1.5, -1]), 0.75);
  });
});

describe('sampled chunks of a weights file', () => {
  it('the first and last chunk and evenly spaced ones; a small file is read whole', () => {
    const o = sampleOffsets(100 * 65536, 64, 65536);
    assert.equal(o.length, 64);
    assert.equal(o[0], 0);
    assert.equal(o[63], 99 * 65536);
    assert.deepEqual(sampleOffsets(3 * 65536 + 5, 64, 65536), [0, 65536, 131072, 196608]);
  });
});
