import assert from 'node:assert/strict';
import type { ContrastiveResult } from '../../common/protocol';
import { contrastiveCaption } from '../../extension/contrastive/contrastiveCaption';

describe('contrastive caption', () => {
  it('names both sets, the top-n effect and the random baseline with its spread', () => {
    const r: ContrastiveResult = {
      rows: [], disable: [], mostNegative: [], n: 8, seed: 0, tokens: { a: 120, b: 95 },
      measure: { none: -2.2, topN: -1.4, random: [-2.1, -2.3], randomSpread: { mean: -2.2, std: 0.1412, min: -2.3, max: -2.1 }, effectTopN: 0.8031, effectRandom: 0.0614 },
    };
    assert.equal(
      contrastiveCaption(r),
      'A: 120 tokens · B: 95 tokens · disabling the top 8 changes M (surprisal A − B, bits/token) by 0.803; 8 random experts: 0.061 (mean of 2 draws, sd 0.141)',
    );
  });
});
