// The pure parts of reading a notebook cell after the cells above it (server/analysis/cellContext.ts): how the cells
// are joined, where the prefix is cut to fit, and the slice of the combined result back to the cell's own tokens.
import assert from 'node:assert/strict';
import { cellContextCaption } from '../../common/cellContextCaption';
import type { ModelInfo, RoutingResult } from '../../common/protocol';
import { layerIndex, slotIndex } from '../../common/routingLayout';
import { cellSlice, cellsAbovePrefix, firstCellToken, leftCut } from '../../server/analysis/cellContext';

const model: ModelInfo = { name: 't', layers: 2, experts: 8, topK: 2, executionProvider: 'cpu', contextLength: 16, vocabSize: 32 };

/** A result whose every value names its token, layer and slot, over tokens with these [start, end) offsets. */
function result(offsets: number[], steered = false): RoutingResult {
  const T = offsets.length / 2;
  const { layers: L, topK: K } = model;
  const r: RoutingResult = {
    model, version: 3, tokens: T, offsets, ids: Array.from({ length: T }, (_, t) => 10 + t),
    experts: new Array(T * L * K), weights: new Array(T * L * K), entropy: new Array(T * L), surprisal: Array.from({ length: T }, (_, t) => t / 2),
    steered, windows: 1, truncated: false, elapsedMs: 1,
  };
  if (steered) r.baselineExperts = new Array(T * L * K);
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      r.entropy[layerIndex(model, t, l)] = t + l / 10;
      for (let k = 0; k < K; k++) {
        r.experts[slotIndex(model, t, l, k)] = (t * L + l + k) % 8;
        r.weights[slotIndex(model, t, l, k)] = t + l / 10 + k / 100;
        if (r.baselineExperts) r.baselineExperts[slotIndex(model, t, l, k)] = (t + k) % 8;
      }
    }
  }
  return r;
}

describe('notebook cell context (pure parts)', () => {
  it('joins the non-empty cells above with a blank line after each, whatever newline a cell ends with', () => {
    assert.equal(cellsAbovePrefix(['# Title', 'x = 1\n', '', 'y = 2']), '# Title\n\nx = 1\n\ny = 2\n\n');
    assert.equal(cellsAbovePrefix([]), '');
    assert.equal(cellsAbovePrefix(['', '']), '');
  });

  it('cuts the prefix at the start of the first token kept, keeping at most the budget', () => {
    const offsets = [0, 3, 3, 4, 4, 9, 9, 11]; // 4 tokens over 11 units
    assert.equal(leftCut(offsets, 11, 4), 0);
    assert.equal(leftCut(offsets, 11, 9), 0);
    assert.equal(leftCut(offsets, 11, 3), 3);
    assert.equal(leftCut(offsets, 11, 1), 9);
    assert.equal(leftCut(offsets, 11, 0), 11, 'no budget: nothing stays');
    assert.equal(leftCut([], 0, 5), 0);
  });

  it("finds the cell's first token: the first one that ends after the prefix (a token across the boundary counts)", () => {
    const offsets = [0, 3, 3, 5, 5, 8, 8, 9];
    assert.equal(firstCellToken(offsets, 5), 2);
    assert.equal(firstCellToken(offsets, 4), 1, 'the token [3, 5) reaches into the cell');
    assert.equal(firstCellToken(offsets, 0), 0);
    assert.equal(firstCellToken(offsets, 9), 4, 'no token of the cell');
  });

  it("slices every array to the cell's tokens and moves offsets into the cell's coordinates", () => {
    const offsets = [0, 4, 4, 6, 6, 7, 7, 12, 12, 13];
    const r = result(offsets, true);
    const context = { cells: 2, tokens: 2, truncated: false };
    const c = cellSlice(r, 2, 6, context);
    assert.equal(c.tokens, 3);
    assert.deepEqual(c.offsets, [0, 1, 1, 6, 6, 7]);
    assert.deepEqual(c.ids, r.ids.slice(2));
    assert.deepEqual(c.context, context);
    for (let t = 0; t < c.tokens; t++) {
      assert.equal(c.surprisal[t], r.surprisal[t + 2]);
      for (let l = 0; l < model.layers; l++) {
        assert.equal(c.entropy[layerIndex(model, t, l)], r.entropy[layerIndex(model, t + 2, l)]);
        for (let k = 0; k < model.topK; k++) {
          const [i, j] = [slotIndex(model, t, l, k), slotIndex(model, t + 2, l, k)];
          assert.deepEqual([c.experts[i], c.weights[i], c.baselineExperts![i]], [r.experts[j], r.weights[j], r.baselineExperts![j]]);
        }
      }
    }
    assert.equal(c.experts.length, c.tokens * model.layers * model.topK);
    assert.equal(r.tokens, 5, 'the combined result is not modified');
  });

  it('a token that straddles the boundary starts at the cell start', () => {
    const c = cellSlice(result([0, 3, 3, 7, 7, 9]), 1, 5, { cells: 1, tokens: 1, truncated: false });
    assert.deepEqual(c.offsets, [0, 2, 2, 4]);
  });

  it('says when the prefix was cut, and when the cell fills the context alone', () => {
    assert.equal(cellContextCaption({ cells: 1, tokens: 12, truncated: false }, 512), 'read after the 1 cell above (12 tokens of context)');
    assert.match(cellContextCaption({ cells: 3, tokens: 500, truncated: true }, 512), /3 cells above \(500 tokens of context, cut from the left to fit the 512-token context\)/);
    assert.match(cellContextCaption({ cells: 2, tokens: 0, truncated: true }, 512), /read alone: the cell fills the 512-token context/);
  });
});
