// The routing hover's layers: compact by default (the heatmap's layer, the steered changes), all on request.
import assert from 'node:assert/strict';
import type { RoutingResult } from '../../common/protocol';
import { hoverLayers } from '../../server/lsp/hoverLayers';
import { hoverMarkdown } from '../../server/lsp/hoverMarkdown';

/** 2 tokens, 6 layers, 4 experts, top-2; token 1's top-1 gate weight is highest at layer 4. */
function result(steered = false): RoutingResult {
  const L = 6, K = 2, T = 2;
  const experts = Array.from({ length: T * L * K }, (_, i) => i % 4);
  const weights: number[] = Array.from({ length: T * L * K }, (_, i) => (i % 2 ? 0.4 : 0.6));
  weights[(1 * L + 4) * K] = 0.95;
  const baselineExperts = steered ? experts.map((e, i) => (i === (1 * L + 1) * K || i === (1 * L + 5) * K ? (e + 1) % 4 : e)) : undefined;
  return {
    uri: 'file:///a', version: 1, tokens: T, offsets: [0, 1, 1, 2], ids: [5, 6], experts, weights, entropy: new Array(T * L).fill(0.5), surprisal: [1, 2], steered,
    windows: 1, truncated: false, elapsedMs: 1, baselineExperts,
    model: { name: 'm', layers: L, experts: 4, topK: K, executionProvider: 'cpu', contextLength: 16, vocabSize: 8 },
  } as unknown as RoutingResult;
}

describe('routing hover layers', () => {
  it('compact: the heatmap layer; with "mean", the most decided layer; all: every layer', () => {
    assert.deepEqual(hoverLayers(result(), 1, { layers: 'compact', layer: 3 }), [3]);
    assert.deepEqual(hoverLayers(result(), 1, { layers: 'compact', layer: 99 }), [5]);
    assert.deepEqual(hoverLayers(result(), 1, { layers: 'compact', layer: 'mean' }), [4]);
    assert.deepEqual(hoverLayers(result(), 1, { layers: 'all', layer: 0 }), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(hoverLayers(result(), 1, undefined), [0, 1, 2, 3, 4, 5]);
  });

  it('steered: the layers whose experts changed join the heatmap layer, at most 3 rows', () => {
    assert.deepEqual(hoverLayers(result(true), 1, { layers: 'compact', layer: 3 }), [1, 3, 5]);
    const md = hoverMarkdown(result(true), 1, 'x', undefined, { layers: 'compact', layer: 3 });
    assert.equal(md.split('\n').filter((l) => /^\| \d \|/.test(l)).length, 3);
    assert.match(md, /3 of 6 layers · \[all layers\]\(command:moeLens\.toggleHoverLayers/);
    assert.match(hoverMarkdown(result(true), 1, 'x', undefined, { layers: 'all', layer: 3 }), /\[fewer layers\]/);
  });
});
