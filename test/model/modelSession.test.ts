import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelSession } from '../../server/model/modelSession';
import { surprisalBits } from '../../server/routing/math';
import { repoRoot, embeddedModel } from '../support/paths';

interface GoldenCase {
  text: string;
  ids: number[];
  /** which rows of the logits `logits` holds (first and last token) */
  logits_rows: number[];
  logits: number[][];
  router_logits: number[][][];
  expert_ids: number[][][];
  expert_weights: number[][][];
}

interface Golden {
  model_sha256: string;
  cases: GoldenCase[];
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const CODE = 'def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n';
const PROSE = 'Routing decides which experts see each token; steering changes only that decision.';
const MIXED = 'const café = "😀 中文"; // naïve\r\n\tlet x = 1;\n';

const golden: Golden = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'golden.json'), 'utf8'));

describe('embedded model: ONNX runtime vs the PyTorch golden outputs', function () {
  let s: ModelSession;
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
  });
  after(() => s.dispose());

  it('the fixtures were exported from this model.onnx (file hash, manifest and session agree)', () => {
    const sha = createHash('sha256').update(readFileSync(join(embeddedModel, 'model.onnx'))).digest('hex');
    assert.equal(golden.model_sha256, sha, 'test/fixtures/golden.json is from another model.onnx: regenerate it (tools/model/export.py)');
    assert.equal(s.manifest.provenance.sha256, sha);
    // the model's identity covers its external weights too (modelSession.ts modelIdentity)
    assert.equal(s.modelId, createHash('sha256').update(`${sha} ${String(s.manifest.provenance.dataSha256)}`).digest('hex'));
    assert.ok(golden.cases.length >= 3, 'too few golden cases');
  });

  it('loads on CPU and reports it', () => {
    assert.equal(s.info.executionProvider, 'cpu');
    assert.deepEqual([s.info.layers, s.info.experts, s.info.topK, s.info.vocabSize, s.info.contextLength], [4, 16, 2, 4096, 512]);
  });

  for (const [i, c] of golden.cases.entries()) {
    const label = JSON.stringify(c.text.length > 40 ? `${c.text.slice(0, 40)}…` : c.text);
    it(`case ${i} ${label}: token ids equal Python's; logits, router logits and gate weights within 1e-4; same experts`, async () => {
      assert.deepEqual(s.tokenizer.encode(c.text).ids, c.ids);
      const { layers: L, experts: E, topK: K, vocabSize: V } = s.info;
      const T = c.ids.length;
      const out = await s.forward(c.ids, new Float32Array(L * E));
      assert.equal(c.logits_rows.length, c.logits.length);
      for (const [j, row] of c.logits_rows.entries()) {
        const d = maxAbsDiff(out.logits.subarray(row * V, (row + 1) * V), c.logits[j]);
        assert.ok(d < 1e-4, `logits row ${row}: max |Δ| ${d}`);
      }
      assert.equal(c.router_logits.length, L);
      const flatRouter = c.router_logits.flat(2);
      assert.equal(flatRouter.length, L * T * E);
      const dr = maxAbsDiff(out.routerLogits, flatRouter);
      assert.ok(dr < 1e-4, `router logits: max |Δ| ${dr}`);
      assert.equal(c.expert_ids.flat(2).length, L * T * K);
      assert.deepEqual([...out.expertIds], c.expert_ids.flat(2));
      const dw = maxAbsDiff(out.expertWeights, c.expert_weights.flat(2));
      assert.ok(dw < 1e-4, `gate weights: max |Δ| ${dw}`);
    });
  }

  it('decode(encode(x)) === x for ASCII, accents, emoji, CJK, control characters', () => {
    for (const x of ['plain ascii\n\tindent', 'Grüße naïve café', '😀👍🏽👨‍👩‍👧 emoji', '中文 日本語 한국어', 'nul\u0000bell\u0007', '<|endoftext|> marker', '']) {
      assert.equal(s.tokenizer.decode(s.tokenizer.encode(x).ids), x);
    }
  });

  it('bias 0 is the unsteered model bit for bit', async () => {
    const ids = s.tokenizer.encode(CODE).ids;
    const a = await s.forward(ids, new Float32Array(s.info.layers * s.info.experts));
    const b = await s.forward(ids, new Float32Array(s.info.layers * s.info.experts).fill(0));
    assert.deepEqual(a.logits, b.logits);
    assert.deepEqual(a.routerLogits, b.routerLogits);
  });

  it('disabling an expert (large negative bias) means it is never selected in that layer', async () => {
    const { layers: L, experts: E, topK: K } = s.info;
    const ids = s.tokenizer.encode(CODE).ids;
    const T = ids.length;
    const base = await s.forward(ids, new Float32Array(L * E));
    // the most used expert of layer 1
    const counts = new Array(E).fill(0);
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) counts[base.expertIds[(1 * T + t) * K + k]]++;
    const e = counts.indexOf(Math.max(...counts));
    assert.ok(counts[e] > 0);
    const bias = new Float32Array(L * E);
    bias[1 * E + e] = s.manifest.router.disableBias;
    const out = await s.forward(ids, bias);
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) assert.notEqual(out.expertIds[(1 * T + t) * K + k], e);
    // layer 0 comes before the steered layer: untouched
    assert.deepEqual(out.expertIds.subarray(0, T * K), base.expertIds.subarray(0, T * K));
  });

  it('forcing an expert selects it at every token, with a real gate weight in (0, 1)', async () => {
    const { layers: L, experts: E, topK: K } = s.info;
    const ids = s.tokenizer.encode(PROSE).ids;
    const T = ids.length;
    const bias = new Float32Array(L * E);
    bias[2 * E + 7] = s.manifest.router.forceBias;
    const base = await s.forward(ids, new Float32Array(L * E));
    const out = await s.forward(ids, bias);
    const chosenBefore = [...Array(T).keys()].filter((t) => [...base.expertIds.subarray((2 * T + t) * K, (2 * T + t + 1) * K)].includes(7));
    assert.ok(chosenBefore.length < T, 'expert 7 was already chosen everywhere: the test would prove nothing');
    // router_logits are raw (before expert_bias): up to and including the steered layer they are unchanged
    assert.ok(maxAbsDiff(out.routerLogits.subarray(0, 3 * T * E), base.routerLogits.subarray(0, 3 * T * E)) < 1e-6);
    for (let t = 0; t < T; t++) {
      const slot = [...out.expertIds.subarray((2 * T + t) * K, (2 * T + t + 1) * K)].indexOf(7);
      assert.ok(slot >= 0, `token ${t} does not use forced expert 7`);
      const w = out.expertWeights[(2 * T + t) * K + slot];
      assert.ok(w > 0 && w < 1, `weight ${w}`);
    }
  });

  it('the graph\'s token log-probabilities equal a log-softmax of its logits; logits can be left in the graph', async () => {
    const { layers: L, experts: E, vocabSize: V } = s.info;
    const ids = s.tokenizer.encode(MIXED).ids;
    const zero = new Float32Array(L * E);
    const full = await s.forward(ids, zero);
    assert.ok(full.tokenLogprobs, 'the embedded model outputs token_logprobs');
    assert.equal(full.tokenLogprobs.length, ids.length);
    assert.equal(full.tokenLogprobs[0], 0);
    for (let t = 1; t < ids.length; t++) {
      const want = -surprisalBits(full.logits, ids[t], (t - 1) * V, V) * Math.LN2;
      assert.ok(Math.abs(full.tokenLogprobs[t] - want) < 1e-4, `token ${t}: ${full.tokenLogprobs[t]} vs ${want}`);
    }
    const lean = await s.forward(ids, zero, undefined, { logits: false });
    assert.equal(lean.logits.length, 0);
    assert.deepEqual(Array.from(lean.tokenLogprobs!), Array.from(full.tokenLogprobs));
    assert.deepEqual(Array.from(lean.expertIds), Array.from(full.expertIds));
    // a pass nobody continues leaves the KV cache in the graph too: the same routing, an empty cache
    const bare = await s.forward(ids, zero, undefined, { logits: false, cache: false });
    assert.deepEqual(Array.from(bare.expertIds), Array.from(full.expertIds));
    assert.deepEqual(Array.from(bare.expertWeights), Array.from(full.expertWeights));
    assert.deepEqual(Array.from(bare.tokenLogprobs!), Array.from(full.tokenLogprobs));
    assert.equal(bare.present.length, 0);
    assert.equal(s.cacheBytes(bare.present), 0);
    assert.ok(s.cacheBytes(full.present) > 0);
    // one token (a generation step): a [1, 1] output holding 0
    const one = await s.forward([ids[0]], zero);
    assert.deepEqual(Array.from(one.tokenLogprobs!), [0]);
  });

  it('a KV-cache continuation equals the full forward pass within 1e-4', async () => {
    const { layers: L, experts: E } = s.info;
    const ids = s.tokenizer.encode(MIXED).ids;
    const n = Math.floor(ids.length / 2);
    const zero = new Float32Array(L * E);
    const full = await s.forward(ids, zero);
    const first = await s.forward(ids.slice(0, n), zero);
    const rest = await s.forward(ids.slice(n), zero, first.present);
    assert.equal(rest.present!.length, ids.length);
    const V = s.info.vocabSize;
    const T = ids.length;
    assert.ok(maxAbsDiff(rest.logits, full.logits.subarray(n * V)) < 1e-4);
    for (let l = 0; l < L; l++) {
      assert.ok(maxAbsDiff(rest.routerLogits.subarray(l * (T - n) * E, (l + 1) * (T - n) * E), full.routerLogits.subarray((l * T + n) * E, (l + 1) * T * E)) < 1e-4);
    }
    // one token at a time, as generation does
    let past = first.present;
    for (let t = n; t < Math.min(T, n + 4); t++) {
      const step = await s.forward([ids[t]], zero, past);
      assert.ok(maxAbsDiff(step.logits, full.logits.subarray(t * V, (t + 1) * V)) < 1e-4, `step ${t}`);
      past = step.present;
    }
    await assert.rejects(s.forward([], zero), RangeError);
    await assert.rejects(s.forward([1], new Float32Array(3)), RangeError);
    // and continuing from a truncated cache (the prefix kept after an edit) works the same
    const cut = ModelSession.truncateCache(full.present!, n);
    const again = await s.forward(ids.slice(n), zero, cut);
    assert.ok(maxAbsDiff(again.logits, rest.logits) < 1e-5);
  });
});
