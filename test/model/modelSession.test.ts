import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelSession } from '../../server/model/modelSession';
import { repoRoot, embeddedModel } from '../support/paths';

interface Golden {
  model_sha256: string;
  cases: { text: string; ids: number[]; logits: number[][]; router_logits: number[][][]; expert_ids: number[][][]; expert_weights: number[][][] }[];
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('embedded model: ONNX runtime vs the PyTorch golden outputs', function () {
  let s: ModelSession;
  const golden: Golden = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'golden.json'), 'utf8'));
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
  });
  after(() => s.dispose());

  it('the fixtures were exported from this model.onnx', () => {
    const m = JSON.parse(readFileSync(join(embeddedModel, 'moe.json'), 'utf8'));
    assert.equal(golden.model_sha256, m.provenance.sha256);
  });

  for (const [i, name] of ['python', 'typescript', 'prose', 'unicode', 'json'].entries()) {
    it(`${name}: token ids equal Python's, logits and router logits within 1e-4, same experts`, async () => {
      const c = golden.cases[i];
      assert.deepEqual(s.tokenizer.encode(c.text).ids, c.ids);
      const out = await s.forward(c.ids, new Float32Array(s.info.layers * s.info.experts));
      const V = s.info.vocabSize;
      const T = c.ids.length;
      assert.ok(maxAbsDiff(out.logits.subarray(0, V), c.logits[0]) < 1e-4);
      assert.ok(maxAbsDiff(out.logits.subarray((T - 1) * V, T * V), c.logits[1]) < 1e-4);
      assert.ok(maxAbsDiff(out.routerLogits, c.router_logits.flat(2)) < 1e-4);
      assert.deepEqual([...out.expertIds], c.expert_ids.flat(2));
      assert.ok(maxAbsDiff(out.expertWeights, c.expert_weights.flat(2)) < 1e-4);
    });
  }

  it('decode(encode(x)) === x for ASCII, accents, emoji, CJK, control characters', () => {
    for (const x of ['plain ascii\n\tindent', 'Grüße naïve café', '😀👍🏽👨‍👩‍👧 emoji', '中文 日本語 한국어', 'nul\u0000bell\u0007', '<|endoftext|> marker', '']) {
      assert.equal(s.tokenizer.decode(s.tokenizer.encode(x).ids), x);
    }
  });

  it('bias 0 is the unsteered model bit for bit', async () => {
    const ids = golden.cases[0].ids;
    const a = await s.forward(ids, new Float32Array(s.info.layers * s.info.experts));
    const b = await s.forward(ids, new Float32Array(s.info.layers * s.info.experts).fill(0));
    assert.deepEqual(a.logits, b.logits);
    assert.deepEqual(a.routerLogits, b.routerLogits);
  });

  it('disabling an expert (large negative bias) means it is never selected in that layer', async () => {
    const { layers: L, experts: E, topK: K } = s.info;
    const ids = golden.cases[0].ids;
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
    const ids = golden.cases[2].ids;
    const T = ids.length;
    const bias = new Float32Array(L * E);
    bias[2 * E + 7] = s.manifest.router.forceBias;
    const out = await s.forward(ids, bias);
    for (let t = 0; t < T; t++) {
      const slot = [...out.expertIds.subarray((2 * T + t) * K, (2 * T + t + 1) * K)].indexOf(7);
      assert.ok(slot >= 0, `token ${t} does not use forced expert 7`);
      const w = out.expertWeights[(2 * T + t) * K + slot];
      assert.ok(w > 0 && w < 1, `weight ${w}`);
    }
  });

  it('a KV-cache continuation equals the full forward pass within 1e-4', async () => {
    const { layers: L, experts: E } = s.info;
    const ids = golden.cases[3].ids;
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
    // and continuing from a truncated cache (the prefix kept after an edit) works the same
    const cut = ModelSession.truncateCache(full.present!, n);
    const again = await s.forward(ids.slice(n), zero, cut);
    assert.ok(maxAbsDiff(again.logits, rest.logits) < 1e-5);
  });
});
