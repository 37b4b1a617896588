// The statistics table the CLI prints and the editor's log writes: a header line and one line per layer, never the
// whole result as one JSON line.
import assert from 'node:assert/strict';
import type { StatsResult } from '../../common/protocol';
import { statsTable } from '../../common/statsTable';

describe('statistics table', () => {
  it('one header, one column line and one line per layer; missing values as dashes', () => {
    const layer = (lbl: number | null) => ({ load: [0.5, 0.5, 0], meanProb: null, lbl, deadExperts: [2], top1Repeat: 0.25, top1RepeatChance: 0.5, tokenIdConsistency: null, meanEntropy: 0.7 });
    const s = { model: { name: 'm', layers: 2, experts: 3, topK: 1 }, tokens: 10, files: ['a.py'], steered: false, layers: [layer(1.2), layer(null)] } as unknown as StatsResult;
    const lines = statsTable(s).trimEnd().split('\n');
    assert.equal(lines[0], 'm · 10 tokens · 1 file');
    assert.match(lines[1], /layer\s+lbl\s+dead/);
    assert.match(lines[2], /^\s*0\s+1\.200\s+1\s+0\.250\s+0\.500\s+—\s+0\.700\s+0\.500$/);
    assert.match(lines[3], /^\s*1\s+—\s+1/);
    assert.equal(lines[4], 'dead experts: layer 0: E2; layer 1: E2');
    assert.ok(!lines.some((l) => l.includes('{')));
  });
});
