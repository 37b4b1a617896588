import assert from 'node:assert/strict';
import { addImportance, emptyImportance, importanceScores, keepCount, keptAtRandom, keptByScore, meanSd, prunedPairs, pruningThreshold } from '../../common/expertImportance';
import { mergeGroups } from '../../common/expertMerging';
import { lruHitsByCapacity, offloadLayers, segmentCoverage } from '../../common/offloadSim';
import { parsePruneArgs, PruneUsageError } from '../../server/cli/pruneArgs';
import { mulberry32 } from '../../server/steering/prng';
import { referenceLruHits, referenceOffloadLayers, referenceSegmentCoverage } from '../support/offloadReference';

describe('expert importance', () => {
  // 2 layers, 4 experts, top-2, 3 tokens; layer-major [(l*T+t)*K+k]
  const ids = [0, 1, 0, 2, 1, 0, /* layer 1 */ 3, 2, 3, 1, 3, 0];
  const weights = [0.6, 0.4, 0.7, 0.3, 0.5, 0.5, 0.9, 0.1, 0.8, 0.2, 0.6, 0.4];
  const norms = [2, 1, 4, 10, 3, 2, 1, 1, 1, 5, 2, 3];
  const c = emptyImportance(2, 4);
  addImportance(c, 3, 2, ids, weights, norms);

  it('frequency, weight and reap by hand', () => {
    assert.deepEqual(importanceScores(c, 'frequency'), [[3, 2, 1, 0], [1, 1, 1, 3]]);
    const w = importanceScores(c, 'weight');
    assert.ok(Math.abs(w[0][0] - (0.6 + 0.7 + 0.5)) < 1e-12);
    assert.ok(Math.abs(w[1][3] - (0.9 + 0.8 + 0.6)) < 1e-12);
    const r = importanceScores(c, 'reap');
    // expert 0 at layer 0: tokens 0, 1, 2 with g·‖y‖ = 0.6·2, 0.7·4, 0.5·2 → mean
    assert.ok(Math.abs(r[0][0] - (1.2 + 2.8 + 1.0) / 3) < 1e-12);
    assert.ok(Math.abs(r[0][2] - 0.3 * 10) < 1e-12);
    assert.equal(r[0][3], 0, 'an expert never routed to scores 0');
  });

  it('deltaP is the share difference and needs a second set', () => {
    const b = emptyImportance(2, 4);
    addImportance(b, 1, 2, [3, 2, 0, 1], [0.5, 0.5, 0.5, 0.5], null);
    const d = importanceScores(c, 'deltaP', b);
    assert.ok(Math.abs(d[0][0] - (3 / 3 - 0)) < 1e-12);
    assert.ok(Math.abs(d[0][3] - (0 - 1)) < 1e-12);
    assert.throws(() => importanceScores(c, 'deltaP'), /second set/);
  });

  it('rejects arrays of the wrong length', () => {
    assert.throws(() => addImportance(emptyImportance(2, 4), 3, 2, ids.slice(1), weights, null), /routing arrays/);
  });

  it('keep counts respect top-k, kept sets are the best per layer, the rest is pruned', () => {
    assert.deepEqual([1, 0.875, 0.75, 0.5, 0.25, 0.05].map((f) => keepCount(f, 16, 2)), [16, 14, 12, 8, 4, 2]);
    const scores = importanceScores(c, 'frequency');
    assert.deepEqual(keptByScore(scores, 2), [[0, 1], [0, 3]]); // layer 1: 3 first, then a tie 0/1/2 → lowest index
    assert.deepEqual(prunedPairs([[0, 1], [0, 3]], 4), [[0, 2], [0, 3], [1, 1], [1, 2]]);
  });

  it('random kept sets: seeded, distinct, the right size', () => {
    const a = keptAtRandom(3, 16, 5, mulberry32(7));
    const b = keptAtRandom(3, 16, 5, mulberry32(7));
    assert.deepEqual(a, b);
    for (const row of a) assert.equal(new Set(row).size, 5);
    assert.notDeepEqual(a[0], a[1]);
  });

  it('the threshold is the smallest fraction before the first rise past the tolerance', () => {
    const pts = [
      { keptFraction: 1, bitsPerToken: 5 },
      { keptFraction: 0.75, bitsPerToken: 5.05 },
      { keptFraction: 0.5, bitsPerToken: 5.09 },
      { keptFraction: 0.25, bitsPerToken: 6 },
    ];
    assert.equal(pruningThreshold(pts, 5, 0.02), 0.5);
    assert.equal(pruningThreshold(pts, 5, 0.005), 1);
    assert.equal(pruningThreshold([...pts, { keptFraction: 0.125, bitsPerToken: 5 }], 5, 0.02), 0.5, 'a later dip does not count');
    assert.deepEqual(meanSd([1, 3]), { mean: 2, sd: Math.SQRT2 });
  });
});

describe('expert merging (MC-SMoE grouping)', () => {
  it('dominant = most frequent; others join the most similar router column; frequency-weighted coefficients', () => {
    // 4 experts: columns 0 and 2 identical in direction, 1 and 3 identical
    const z = [
      [1, 0, 2, 0],
      [0, 1, 0, 3],
      [1, 1, 2, 3],
    ];
    const gram = new Array<number>(16).fill(0);
    for (const row of z) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) gram[i * 4 + j] += row[i] * row[j];
    const groups = mergeGroups([10, 6, 2, 3], gram, 2);
    assert.deepEqual(groups, [
      { dominant: 0, members: [[0, 10 / 12], [2, 2 / 12]] },
      { dominant: 1, members: [[1, 6 / 9], [3, 3 / 9]] },
    ]);
  });
});

describe('offloading simulation', () => {
  const seq = [[0, 1], [0, 1], [2, 3], [0, 2]];
  const flat = seq.flat();
  const shape = { experts: 4, topK: 2 };
  it('SRP / SCH: the best fixed set per segment', () => {
    // one segment of 4: counts 0:3, 1:2, 2:2, 3:1 → best 2 cover 5 of 8, best 4 cover 8
    assert.deepEqual(segmentCoverage(flat, shape, 4, 2), { covered: 5, activations: 8 });
    assert.deepEqual(segmentCoverage(flat, shape, 4, 4), { covered: 8, activations: 8 });
    // segments of 2: [0,1][0,1] → 4 of 4; [2,3][0,2] → 2:2 + one of 3/0 = 3 of 4
    assert.deepEqual(segmentCoverage(flat, shape, 2, 2), { covered: 7, activations: 8 });
  });
  it('LRU hits by hand, every capacity from one pass', () => {
    // C = 1: none; C = 2: token 1's 0 and 1; C = 3: + token 3's 2; C = 4: + token 3's 0
    assert.deepEqual(lruHitsByCapacity(flat, 4), [0, 2, 3, 4]);
  });
  it('equal to the reference definitions (segments, one LRU cache simulated per size) on random routing', () => {
    const rand = mulberry32(7);
    for (const [E, K, T] of [[4, 2, 50], [16, 2, 700], [64, 8, 300], [8, 1, 200]]) {
      const tokens = Array.from({ length: T }, () => {
        const a: number[] = [];
        // a skewed draw (runs of similar routing) so that caches of every size both hit and miss
        while (a.length < K) {
          const e = Math.floor(E * rand() ** 2);
          if (!a.includes(e)) a.push(e);
        }
        return a;
      });
      const f = tokens.flat();
      const hits = lruHitsByCapacity(f, E);
      for (let c = 1; c <= E; c++) assert.equal(hits[c - 1], referenceLruHits(tokens, c).hits, `E ${E} K ${K} C ${c}`);
      for (const [m, size] of [[16, K], [16, 2 * K], [5, 3]]) assert.deepEqual(segmentCoverage(f, { experts: E, topK: K }, m, size), referenceSegmentCoverage(tokens, m, size));
      assert.deepEqual(offloadLayers([[f], [f.slice(0, 10 * K)]], { layers: 1, experts: E, topK: K }, 16, 2 * K, 100), referenceOffloadLayers([[tokens], [tokens.slice(0, 10)]], { layers: 1, experts: E, topK: K }, 16, 2 * K, 100));
    }
  });
  it('per layer: hit rate rises with C to the compulsory-miss limit; bytes follow the misses', () => {
    const [l] = offloadLayers([[flat]], { layers: 1, ...shape }, 4, 4, 100);
    assert.deepEqual(l.lruHitRate, [0, 2 / 8, 3 / 8, 4 / 8]); // C = 3 also keeps 2 for the last token
    assert.deepEqual(l.bytesPerToken, [200, 150, 125, 100]);
    assert.equal(l.srp, 5 / 8);
    assert.equal(l.sch, 1);
  });
});

describe('moe-lens prune arguments', () => {
  const bad = (args: string[], re: RegExp) => assert.throws(() => parsePruneArgs(args), (e: Error) => e instanceof PruneUsageError && re.test(e.message));
  it('refuses what cannot run', () => {
    bad(['prune', '--corpus', 'a.txt', '--keep', '4'], /--eval/);
    bad(['prune', '--corpus', 'a.txt', '--eval', 'b.txt'], /exactly one of --keep/);
    bad(['prune', '--corpus', 'a.txt', '--eval', 'b.txt', '--keep', '4', '--keep-fraction', '0.5'], /exactly one/);
    bad(['prune', '--corpus', 'a.txt', '--eval', 'b.txt', '--keep-fraction', '1.5'], /\(0, 1\]/);
    bad(['importance', '--corpus', 'a.txt', '--criterion', 'magic'], /--criterion must be/);
    bad(['importance', '--corpus', 'a.txt', '--criterion', 'deltaP'], /--contrast/);
    bad(['eval'], /FILE/);
    bad(['offload'], /--corpus/);
  });
  it('several files after a flag (a shell-expanded glob)', () => {
    const a = parsePruneArgs(['prune', '--corpus', 'a.txt', 'b.txt', '--eval', 'c.txt', '--keep', '8', '--json']);
    assert.deepEqual(a.corpus, ['a.txt', 'b.txt']);
    assert.deepEqual(a.eval, ['c.txt']);
    assert.equal(a.keep, 8);
    assert.equal(a.json, true);
  });
});
