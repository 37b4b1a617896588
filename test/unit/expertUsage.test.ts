import assert from 'node:assert/strict';
import type { RoutingResult } from '../../common/protocol';
import { expertUsage } from '../../server/steering/usage';

const r: RoutingResult = {
  model: { name: 'm', layers: 1, experts: 3, topK: 1, executionProvider: 'cpu', contextLength: 8, vocabSize: 10 },
  version: 1, tokens: 3, offsets: [0, 1, 1, 2, 2, 3], ids: [1, 2, 3], experts: [0, 1, 1], weights: [1, 1, 1], entropy: [0, 0, 0], surprisal: [0, 0, 0],
  steered: false, windows: 1, truncated: false, elapsedMs: 0,
};

describe('expert usage over a trace', () => {
  it('tokens the engine did not record are not counted (their expert ids are placeholders)', () => {
    const trace: RoutingResult = { ...r, notRecorded: [0], absent: ['weights', 'entropy', 'surprisal'] };
    assert.deepEqual(expertUsage(r).active, [[1 / 3, 2 / 3, 0]]);
    assert.deepEqual(expertUsage(trace).active, [[0, 1, 0]]);
    assert.equal(expertUsage(trace).tokens, 2);
  });
});
