import assert from 'node:assert/strict';
import { RoutingStatsAccumulator, top1Slot } from '../../common/routingStats';

const close = (a: number | null, b: number, what: string) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);
const closeAll = (a: number[] | null, b: number[], what: string) => {
  assert.ok(a, `${what} is null`);
  assert.equal(a.length, b.length);
  a.forEach((x, i) => close(x, b[i], `${what}[${i}]`));
};

// One layer, three experts, top-2. Numbers below are worked by hand in the comments.
const shape = { layers: 1, experts: 3, topK: 2 };
const doc1 = {
  ids: [5, 7, 5, 5],
  //          t0      t1      t2      t3
  experts: [0, 1, 1, 2, 0, 2, 2, 0],
  weights: [0.7, 0.3, 0.4, 0.6, 0.5, 0.5, 0.9, 0.1], // top-1: E0, E2 (higher weight second), E0 (tie: first), E2
  entropy: [1, 2, 3, 4],
  probSums: [1.6, 1.2, 1.2],
};
const doc2 = { ids: [9, 9], experts: [1, 0, 1, 2], weights: [0.6, 0.4, 0.8, 0.2], entropy: [0.5, 0.5], probSums: [0.4, 1.2, 0.4] }; // top-1: E1, E1

describe('routing statistics (common/routingStats.ts)', () => {
  it('top-1 is the highest gate weight; a tie goes to the earlier position; no weights: the first', () => {
    assert.equal(top1Slot([0.4, 0.6], 0, 2), 1);
    assert.equal(top1Slot([0.5, 0.5], 0, 2), 0);
    assert.equal(top1Slot([9, 0.2, 0.3, 0.3], 1, 3), 1);
    assert.equal(top1Slot(null, 0, 2), 0);
  });

  it('one document: every statistic against hand-computed values', () => {
    const acc = new RoutingStatsAccumulator(shape);
    acc.add(doc1);
    const [l] = acc.layers();
    assert.equal(acc.tokens, 4);
    // slots: E0 3 (t0,t2,t3), E1 2 (t0,t1), E2 3 (t1,t2,t3) of 8
    closeAll(l.load, [3 / 8, 2 / 8, 3 / 8], 'load');
    closeAll(l.meanProb, [0.4, 0.3, 0.3], 'meanProb');
    close(l.lbl, 3 * (0.375 * 0.4 + 0.25 * 0.3 + 0.375 * 0.3), 'lbl'); // 1.0125
    assert.deepEqual(l.deadExperts, []);
    // top-1 sequence E0 E2 E0 E2: no consecutive pair repeats; q = [1/2, 0, 1/2] -> chance 1/2
    close(l.top1Repeat, 0, 'top1Repeat');
    close(l.top1RepeatChance, 0.5, 'top1RepeatChance');
    // id 5 three times with top-1 E0, E0, E2 -> max 2; id 7 once (left out): 2/3
    close(l.tokenIdConsistency, 2 / 3, 'tokenIdConsistency');
    close(l.meanEntropy, 2.5, 'meanEntropy');
  });

  it('two documents: pairs stay within a document; consistency, load and p_i pool them', () => {
    const acc = new RoutingStatsAccumulator(shape);
    acc.add(doc1);
    acc.add(doc2);
    const [l] = acc.layers();
    assert.equal(acc.tokens, 6);
    closeAll(l.load, [4 / 12, 4 / 12, 4 / 12], 'load');
    // pairs: 3 in doc1 (none repeat) + 1 in doc2 (E1,E1 repeats); E2→E1 across the documents is no pair
    close(l.top1Repeat, 1 / 4, 'top1Repeat');
    close(l.top1RepeatChance, 3 * (1 / 3) ** 2, 'chance'); // q = [2,2,2]/6
    close(l.tokenIdConsistency, (2 + 2) / (3 + 2), 'tokenIdConsistency'); // id 5: 2 of 3, id 9: 2 of 2
    closeAll(l.meanProb, [2 / 6, 2.4 / 6, 1.6 / 6], 'meanProb');
    close(l.meanEntropy, 11 / 6, 'meanEntropy');
  });

  it('a source without weights, entropy or probabilities: top-1 by position, and null instead of zeros', () => {
    const acc = new RoutingStatsAccumulator(shape);
    acc.add({ ids: doc1.ids, experts: doc1.experts });
    const [l] = acc.layers();
    assert.equal(l.meanProb, null);
    assert.equal(l.lbl, null);
    assert.equal(l.meanEntropy, null);
    // top-1 by position: E0 E1 E0 E2 -> q = [2,1,1]/4; id 5: E0,E0,E2 -> 2 of 3
    close(l.top1RepeatChance, 0.25 + 1 / 16 + 1 / 16, 'chance');
    close(l.tokenIdConsistency, 2 / 3, 'tokenIdConsistency');
    // one source without probabilities makes the pooled p_i unknown, not partial
    acc.add(doc2);
    assert.equal(acc.layers()[0].meanProb, null);
  });

  it('tokens not recorded are left out and break the pair chain; dead experts; no repeats -> null', () => {
    const acc = new RoutingStatsAccumulator({ layers: 1, experts: 4, topK: 1 });
    // t1 not recorded: the pairs (t0,t1) and (t1,t2) do not exist, (t2,t3) does and repeats
    acc.add({ ids: [1, 2, 3, 4], experts: [0, 0, 2, 2], notRecorded: [1] });
    const [l] = acc.layers();
    assert.equal(acc.tokens, 3);
    closeAll(l.load, [1 / 3, 0, 2 / 3, 0], 'load');
    assert.deepEqual(l.deadExperts, [1, 3]);
    close(l.top1Repeat, 1, 'top1Repeat');
    assert.equal(l.tokenIdConsistency, null);
  });

  it('several layers read their own slice of the token-major arrays', () => {
    const acc = new RoutingStatsAccumulator({ layers: 2, experts: 2, topK: 1 });
    acc.add({ ids: [1, 1], experts: [0, 1, 0, 0] }); // layer 0: E0 E0, layer 1: E1 E0
    const [a, b] = acc.layers();
    closeAll(a.load, [1, 0], 'layer 0 load');
    closeAll(b.load, [0.5, 0.5], 'layer 1 load');
    close(a.top1Repeat, 1, 'layer 0 repeat');
    close(b.top1Repeat, 0, 'layer 1 repeat');
    close(b.tokenIdConsistency, 0.5, 'layer 1 consistency');
  });

  it('refuses arrays of the wrong length', () => {
    assert.throws(() => new RoutingStatsAccumulator(shape).add({ ids: [1], experts: [0] }), /expected T·L·K = 1·1·2/);
  });
});
