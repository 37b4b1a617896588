import assert from 'node:assert/strict';
import { entropyNats, klDivergence, loadBalance, softmax, surprisalBits, topK } from '../../server/routing/math';

describe('routing math', () => {
  it('entropy of equal logits is ln E, of one dominant logit about 0', () => {
    assert.ok(Math.abs(entropyNats([3, 3, 3, 3]) - Math.log(4)) < 1e-12);
    assert.ok(entropyNats([100, 0, 0, 0]) < 1e-40);
  });
  it('entropy of a hand-computed distribution', () => {
    // softmax([ln 1, ln 3]) = [0.25, 0.75]; H = -(0.25 ln 0.25 + 0.75 ln 0.75) = 0.5623351446
    assert.ok(Math.abs(entropyNats([0, Math.log(3)]) - 0.5623351446188083) < 1e-12);
  });
  it('entropy and softmax read a slice', () => {
    const row = [9, 9, 1, 1, 1, 1, 9];
    assert.ok(Math.abs(entropyNats(row, 2, 4) - Math.log(4)) < 1e-12);
    assert.deepEqual([...softmax([0, 0], 0, 2)], [0.5, 0.5]);
  });
  it('topK returns the largest first and keeps the lower index on ties', () => {
    assert.deepEqual(topK([0.1, 0.7, 0.3, 0.7, 0.2], 2), [1, 3]);
    assert.deepEqual(topK([5, 1, 5, 5], 3), [0, 2, 3]);
    assert.deepEqual(topK([1, 2, 3, 4, 5, 6], 2, 2, 3), [2, 1]);
  });
  it('surprisal in bits', () => {
    assert.ok(Math.abs(surprisalBits([0, 0, 0, 0], 2) - 2) < 1e-12);
    // p = 0.75 -> -log2 0.75 = 0.4150374993
    assert.ok(Math.abs(surprisalBits([0, Math.log(3)], 1) - 0.41503749927884376) < 1e-12);
  });
  it('load-balance loss is 1 when even and N_E when collapsed', () => {
    assert.ok(Math.abs(loadBalance([0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]) - 1) < 1e-12);
    assert.equal(loadBalance([1, 0, 0, 0], [1, 0, 0, 0]), 4);
  });
  it('KL divergence: 0 for identical rows, hand-computed otherwise', () => {
    assert.ok(Math.abs(klDivergence([1, 2, 3], [1, 2, 3])) < 1e-15);
    // p = [0.5, 0.5], q = [0.25, 0.75]: KL = 0.5 ln 2 + 0.5 ln(2/3) = 0.1438410362
    assert.ok(Math.abs(klDivergence([0, 0], [0, Math.log(3)]) - 0.14384103622589045) < 1e-12);
  });
});
