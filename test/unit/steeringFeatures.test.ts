import assert from 'node:assert/strict';
import type { RoutingResult } from '../../common/protocol';
import { charClass } from '../../server/steering/charClass';
import { activationShares, addActivations, disableRules, emptyCounts, randomDisableRules, rankByDeltaP, spread } from '../../server/steering/contrastive';
import { clampNewTokens, firstDivergence } from '../../server/steering/generate';
import { displayToken, labelFor, profileExperts, type ExpertProfile } from '../../server/steering/labels';
import { compareDistributions } from '../../server/steering/nextToken';
import { argmax, mulberry32, sampleDistinct, sampleIndex } from '../../server/steering/prng';
import { expertUsage } from '../../server/steering/usage';

describe('ΔP ranking (SteerMoE risk difference)', () => {
  // L=2, E=3, K=2, token-major experts[(t*L+l)*K+k]
  const A = [0, 1, 2, 0, /* t1 */ 0, 2, 2, 1];
  const B = [1, 2, 0, 1];
  const a = addActivations(emptyCounts(2, 3), A, 2, 2);
  const b = addActivations(emptyCounts(2, 3), B, 1, 2);

  it('P(active) is the share of tokens whose top-k contains the expert', () => {
    assert.deepEqual([...activationShares(a)], [1, 0.5, 0.5, 0.5, 0.5, 1]);
    assert.deepEqual([...activationShares(b)], [0, 1, 1, 1, 1, 0]);
  });

  it('ranks every (layer, expert) by P_A − P_B, largest first, ties by layer then expert', () => {
    const rows = rankByDeltaP(a, b, [['digits'], []]);
    assert.equal(rows.length, 6);
    assert.deepEqual(rows.map((r) => [r.layer, r.expert, r.deltaP]), [[0, 0, 1], [1, 2, 1], [0, 1, -0.5], [0, 2, -0.5], [1, 0, -0.5], [1, 1, -0.5]]);
    assert.equal(rows[0].label, 'digits');
    assert.equal(rows[1].label, undefined);
  });

  it('sets accumulate over texts, token-weighted', () => {
    const c = addActivations(addActivations(emptyCounts(2, 3), A, 2, 2), B, 1, 2);
    assert.equal(c.tokens, 3);
    assert.deepEqual([...activationShares(c)].map((x) => +x.toFixed(4)), [0.6667, 0.6667, 0.6667, 0.6667, 0.6667, 0.6667]);
  });

  it('refuses routing whose length does not match', () => assert.throws(() => addActivations(emptyCounts(2, 3), [0, 1, 2], 1, 2), RangeError));

  it('disable rules keep topK selectable experts in every layer', () => {
    const shape = { layers: 2, experts: 4, topK: 2 };
    const pairs = [0, 1, 2, 3].map((e) => ({ layer: 0, expert: e })).concat([{ layer: 1, expert: 3 }]);
    assert.deepEqual(disableRules(pairs, 3, shape), [
      { layer: 0, expert: 0, mode: 'disable' },
      { layer: 0, expert: 1, mode: 'disable' },
      { layer: 1, expert: 3, mode: 'disable' },
    ]);
    const rnd = randomDisableRules(4, shape, mulberry32(7));
    assert.equal(rnd.length, 4);
    for (let l = 0; l < 2; l++) assert.ok(rnd.filter((r) => r.layer === l).length <= 2);
    assert.equal(new Set(rnd.map((r) => `${r.layer}:${r.expert}`)).size, 4);
  });

  it('spread: mean and sample standard deviation', () => {
    const s = spread([1, 2, 3, 4]);
    assert.equal(s.mean, 2.5);
    assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-12);
    assert.deepEqual([s.min, s.max], [1, 4]);
  });
});

describe('next-token distribution change', () => {
  it('identical rows: KL 0 and the same top tokens', () => {
    const row = Float32Array.from([0.3, 2, -1, 5, 0]);
    const c = compareDistributions(row, row);
    assert.equal(c.klNats, 0);
    assert.deepEqual(c.baseline, c.steered);
    assert.deepEqual(c.baseline.map((t) => t.id), [3, 1, 0]);
  });

  it('a hand-computed case: p = (1/2, 1/2), q = (3/4, 1/4) → KL = ½·ln(4/3)', () => {
    const c = compareDistributions([0, 0], [Math.log(3), 0], 2);
    assert.ok(Math.abs(c.klNats - 0.5 * Math.log(4 / 3)) < 1e-12, String(c.klNats));
    assert.ok(Math.abs(c.steered[0].p - 0.75) < 1e-12);
    assert.equal(c.steered[0].id, 0);
  });

  it('refuses rows of different vocabularies', () => assert.throws(() => compareDistributions([0, 1], [0, 1, 2]), RangeError));
});

describe('seeded sampling', () => {
  it('the same seed repeats the same stream; another seed does not', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 100 }, () => a());
    assert.deepEqual(Array.from({ length: 100 }, () => b()), xs);
    assert.notDeepEqual(Array.from({ length: 100 }, () => c()), xs);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });

  it('temperature 0 is argmax; sampling follows softmax(logits / T)', () => {
    const row = [Math.log(1), Math.log(3), Math.log(6)];
    assert.equal(sampleIndex(row, 0, mulberry32(1)), 2);
    assert.equal(argmax([1, 5, 5, 2]), 1);
    const rand = mulberry32(5);
    const n = 20000;
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleIndex(row, 1, rand)]++;
    // expected 0.1, 0.3, 0.6; 4 standard errors at n = 20000 are < 0.015
    [0.1, 0.3, 0.6].forEach((p, i) => assert.ok(Math.abs(counts[i] / n - p) < 0.015, `${i}: ${counts[i] / n}`));
  });

  it('sampleDistinct draws distinct values in range', () => {
    const d = sampleDistinct(10, 10, mulberry32(3));
    assert.deepEqual([...d].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.throws(() => sampleDistinct(3, 4, mulberry32(3)), RangeError);
  });

  it('firstDivergence and the new-token limit', () => {
    assert.equal(firstDivergence([1, 2, 3], [1, 2, 3]), -1);
    assert.equal(firstDivergence([1, 2, 3], [1, 5, 3]), 1);
    assert.equal(firstDivergence([1, 2], [1, 2, 3]), 2);
    assert.equal(clampNewTokens(undefined, 512), 64);
    assert.equal(clampNewTokens(9999, 512), 511);
    assert.throws(() => clampNewTokens(-1, 512), RangeError);
  });
});

describe('expert labels', () => {
  it('character classes of token texts', () => {
    const cases: [string, string][] = [
      ['', 'nonAscii'], ['é', 'nonAscii'], ['\ufffd', 'nonAscii'], [' ', 'whitespace'], ['\n    ', 'whitespace'],
      ['42', 'digits'], [' 2024', 'digits'], [' def', 'lowercase'], ['self', 'lowercase'], [' None', 'capitalised'],
      ['HTTP', 'capitalised'], ['):', 'punctuation'], [' {', 'punctuation'], ['x2', 'mixed'], ['  def', 'mixed'],
    ];
    for (const [text, cls] of cases) assert.equal(charClass(text), cls, JSON.stringify(text));
  });

  const base = (over: Partial<ExpertProfile>): ExpertProfile => ({
    activeTokens: 100,
    top1Tokens: 60,
    topTokens: [],
    classShare: { whitespace: 0.1, digits: 0, lowercase: 0.6, capitalised: 0.1, punctuation: 0.2, nonAscii: 0, mixed: 0 },
    classEnrichment: { whitespace: 0.5, digits: 0, lowercase: 1.6, capitalised: 0.8, punctuation: 0.9, nonAscii: 0, mixed: 0 },
    domainEnrichment: { python: 2.4, markdown: 0.3, json: 0.8 },
    ...over,
  });

  it('domain · class (top tokens) from a hand-made profile', () => {
    const p = base({ topTokens: [{ text: ' def', count: 40, share: 0.9 }, { text: ' self', count: 30, share: 0.5 }, { text: ' return', count: 9, share: 0.3 }, { text: '\n', count: 50, share: 0.1 }] });
    assert.equal(labelFor(p), 'Python · lowercase (def, self)');
    // a long rare merge is no example
    assert.equal(labelFor(base({ topTokens: [{ text: 'WithRSAEncryption', count: 9, share: 0.9 }, { text: ' used', count: 5, share: 0.5 }] })), 'Python · lowercase (used)');
  });

  it('two preferred domains, most enriched first', () => {
    const p = base({ domainEnrichment: { python: 1.6, c_cpp: 2.1, markdown: 0.2, json: 1.4 } });
    assert.equal(labelFor(p), 'C/C++ & Python · lowercase');
  });

  it('two enriched classes and no preferred domain', () => {
    const p = base({
      classShare: { whitespace: 0, digits: 0.45, lowercase: 0.1, capitalised: 0, punctuation: 0.45, nonAscii: 0, mixed: 0 },
      classEnrichment: { whitespace: 0, digits: 6, lowercase: 0.2, capitalised: 0, punctuation: 2, nonAscii: 0, mixed: 0 },
      domainEnrichment: { python: 1.1, json: 1.2 },
      topTokens: [{ text: '0', count: 20, share: 0.3 }, { text: '\n', count: 9, share: 0.05 }],
    });
    assert.equal(labelFor(p), 'digits & punctuation (0)');
  });

  it('a class the expert takes most of is named first, even when it is a small part of its traffic', () => {
    const p = base({
      classCoverage: { whitespace: 0.1, digits: 0.96, lowercase: 0.2, capitalised: 0.1, punctuation: 0.1, nonAscii: 0, mixed: 0 },
      domainEnrichment: { python: 1, json: 1 },
      topTokens: [{ text: '0', count: 20, share: 0.9 }],
    });
    assert.equal(labelFor(p), 'digits & lowercase (0)');
    // coverage under one half does not count
    assert.equal(labelFor({ ...p, classCoverage: { ...p.classCoverage!, digits: 0.4 } }), 'lowercase (0)');
  });

  it('an unused expert says so; tokens display without their leading space, escaped', () => {
    assert.equal(labelFor(base({ activeTokens: 0 })), 'unused on the profile corpus');
    assert.deepEqual([' x', '\n', ' ', '    ', '\t}', '\n        ', '\r\n\t'].map(displayToken), ['x', '\\n', '␣', '␣×4', '\\t}', '\\n␣×8', '\\r\\n\\t']);
  });

  it('profiles from routed texts: enrichment by domain and class, top-1 tokens', () => {
    // L=1, E=3, K=1. Domain "py": token 1 (" def") → expert 0 three times; domain "md": token 2 ("42") → expert 1
    // twice, token 1 → expert 2 once (too rare to name).
    const text = (id: number) => (id === 1 ? ' def' : '42');
    const prof = profileExperts(
      [
        { domain: 'py', ids: [1, 1, 1], experts: [0, 0, 0] },
        { domain: 'md', ids: [2, 2, 1], experts: [1, 1, 2] },
      ],
      { layers: 1, experts: 3, topK: 1 },
      text,
    );
    const [e0, e1, e2] = prof[0];
    assert.equal(e0.activeTokens, 3);
    assert.equal(e0.domainEnrichment.py, 2); // P(active | py) = 1 over P(active) = 1/2
    assert.equal(e0.domainEnrichment.md, 0);
    assert.equal(e1.classShare.digits, 1);
    assert.equal(e1.classEnrichment.digits, 3); // all its tokens are digits, a third of all tokens are
    assert.deepEqual(e0.topTokens, [{ text: ' def', count: 3, share: 0.75 }]);
    assert.deepEqual(e2.topTokens, []);
    assert.equal(labelFor(e0), 'py · lowercase (def)');
    assert.equal(labelFor(e1), 'md · digits (42)');
    assert.equal(e2.domainEnrichment.md, 2);
  });

  it('expertUsage: active share and slot share per layer', () => {
    const r = { model: { layers: 1, experts: 3, topK: 2 }, tokens: 2, experts: [0, 1, 0, 2], version: 4, steered: false } as unknown as RoutingResult;
    const u = expertUsage(r);
    assert.deepEqual(u.active, [[1, 0.5, 0.5]]);
    assert.deepEqual(u.slots, [[0.5, 0.25, 0.25]]);
    assert.equal(u.version, 4);
  });
});
