import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeText, CancelledError, safeCut } from '../../server/analysis/analyzer';
import { ModelSession } from '../../server/model/modelSession';
import { entropyNats, surprisalBits } from '../../server/routing/math';
import { checkInvariants } from '../support/invariants';
import { embeddedModel } from '../support/paths';

describe('document analysis on the embedded model', function () {
  let s: ModelSession;
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
  });
  after(() => s.dispose());

  it('a small code file: invariants hold and hold for every layer', async () => {
    const text = 'import os\n\ndef main():\n    print(os.getcwd())  # 😀 中文\r\n';
    const r = await analyzeText(s, text, 3, { maxTokens: 4096, rules: [] });
    assert.equal(r.version, 3);
    assert.equal(r.windows, 1);
    assert.equal(r.truncated, false);
    assert.equal(r.steered, false);
    checkInvariants(r, text);
  });

  it('token-major arrays are the graph layer-major outputs transposed; entropy and surprisal from the same run', async () => {
    const text = 'fn main() { println!("héllo 😀"); }\n';
    const r = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [] });
    const { layers: L, experts: E, topK: K, vocabSize: V } = s.info;
    const T = r.tokens;
    const out = await s.forward(r.ids, new Float32Array(L * E));
    for (let t = 0; t < T; t++) {
      for (let l = 0; l < L; l++) {
        for (let k = 0; k < K; k++) {
          assert.equal(r.experts[(t * L + l) * K + k], out.expertIds[(l * T + t) * K + k]);
          assert.equal(r.weights[(t * L + l) * K + k], out.expertWeights[(l * T + t) * K + k]);
        }
        // the graph's router_entropy output (float32) vs a double-precision entropy of the same run's router logits
        assert.ok(Math.abs(r.entropy[t * L + l] - entropyNats(out.routerLogits, (l * T + t) * E, E)) < 1e-5);
      }
      // from the graph's token_logprobs (float32 log-softmax) vs a double-precision log-sum-exp over the logits
      const expected = t === 0 ? 0 : surprisalBits(out.logits, r.ids[t], (t - 1) * V, V);
      assert.ok(Math.abs(r.surprisal[t] - expected) < 1e-4, `token ${t}: ${r.surprisal[t]} vs ${expected}`);
    }
    assert.equal(r.surprisal[0], 0);
    // A model without the token_logprobs output (most models users bring): surprisal from the logits in JS.
    const dir = mkdtempSync(join(tmpdir(), 'moe-lens-no-logprobs-'));
    try {
      for (const f of ['model.onnx', 'model.onnx.data', 'tokenizer.json']) copyFileSync(join(embeddedModel, f), join(dir, f));
      const m = JSON.parse(readFileSync(join(embeddedModel, 'moe.json'), 'utf8'));
      delete m.outputs.tokenLogprobs;
      delete m.profileCorpus;
      m.$schema = undefined;
      writeFileSync(join(dir, 'moe.json'), JSON.stringify(m));
      const plain = await ModelSession.load(dir, 'cpu');
      try {
        const r2 = await analyzeText(plain, text, 1, { maxTokens: 4096, rules: [] });
        assert.deepEqual(r2.experts, r.experts);
        for (let t = 1; t < T; t++) assert.equal(r2.surprisal[t], surprisalBits(out.logits, r.ids[t], (t - 1) * V, V));
      } finally {
        await plain.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(r.surprisal.slice(1).every((x) => x > 0));
  });

  it('texts longer than the context are analysed in windows', async () => {
    const text = 'for (let i = 0; i < n; i++) { total += values[i] * 2; }\n'.repeat(60);
    const r = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [] });
    assert.ok(r.tokens > s.info.contextLength);
    assert.equal(r.windows, Math.ceil(r.tokens / s.info.contextLength));
    assert.equal(r.surprisal[s.info.contextLength], 0); // a window starts without history
    checkInvariants(r, text);
  });

  it('a long text is cut before tokenising without changing its first maxTokens tokens', async () => {
    const line = (i: number) => (i % 3 ? `    total += values[${i}] * factor; // step ${i}\r\n` : `if (x${i} > limit) { return café(${i}); }\n`);
    const text = Array.from({ length: 3000 }, (_, i) => line(i)).join('');
    const all = s.tokenizer.encode(text).ids;
    for (const maxTokens of [1, 100, 777, 2048]) {
      const r = await analyzeText(s, text, 1, { maxTokens, rules: [] });
      assert.equal(r.tokens, maxTokens);
      assert.equal(r.truncated, true);
      assert.deepEqual(r.ids, all.slice(0, maxTokens), `maxTokens ${maxTokens}`);
    }
    for (const p of [safeCut(text, 5000), safeCut(text, 5001), safeCut(text, 20000)]) {
      assert.ok(p > 0);
      const head = s.tokenizer.encode(text.slice(0, p)).ids;
      assert.deepEqual(head, all.slice(0, head.length), `cut at ${p}`);
    }
    assert.equal(safeCut('x'.repeat(10000), 5000), -1);
  });

  it('a long single line: cut before a space; a long run of symbols: cut generously', async () => {
    const prose = 'lorem ipsum dolor sit amet, 12345 café '.repeat(3000);
    const symbols = '=+-*/<>'.repeat(5000);
    for (const text of [prose, symbols]) {
      const all = s.tokenizer.encode(text).ids;
      for (const maxTokens of [10, 500]) {
        const r = await analyzeText(s, text, 1, { maxTokens, rules: [] });
        assert.equal(r.truncated, true);
        assert.deepEqual(r.ids, all.slice(0, maxTokens));
        checkInvariants(r, text);
      }
    }
    for (const limit of [1000, 1001, 1002, 1003, 1004, 1005, 1006]) {
      const p = safeCut(prose, limit);
      assert.ok(p > limit - 10 && p <= limit);
      const head = s.tokenizer.encode(prose.slice(0, p)).ids;
      assert.deepEqual(head, s.tokenizer.encode(prose).ids.slice(0, head.length), `cut at ${p}`);
    }
  });

  it('stops at maxTokens and says so', async () => {
    const text = 'word '.repeat(500);
    const r = await analyzeText(s, text, 1, { maxTokens: 50, rules: [] });
    assert.equal(r.tokens, 50);
    assert.equal(r.truncated, true);
    checkInvariants(r, text);
  });

  it('empty text, NUL bytes and lone surrogates do not throw', async () => {
    for (const text of ['', '\u0000\u0000abc\u0000', 'a\ud800b\udc00c', '\ud83d']) {
      const r = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [] });
      checkInvariants(r, text);
      if (text) assert.equal(r.offsets[2 * r.tokens - 1], text.length);
    }
  });

  it('steered results carry the unsteered experts when asked', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const base = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [] });
    const steered = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [{ layer: 0, expert: base.experts[0], mode: 'disable' }], withBaseline: true });
    assert.equal(steered.steered, true);
    assert.deepEqual(steered.baselineExperts, base.experts);
    assert.notDeepEqual(steered.experts, base.experts);
    for (let t = 0; t < steered.tokens; t++) assert.ok(!steered.experts.slice(t * 4 * 2, t * 4 * 2 + 2).includes(base.experts[0]));
    const noBaseline = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [], withBaseline: true });
    assert.equal(noBaseline.baselineExperts, undefined); // unsteered: the experts are the baseline
  });

  it('cancellation between windows', async () => {
    const text = 'x = 1\n'.repeat(400);
    await assert.rejects(analyzeText(s, text, 1, { maxTokens: 4096, rules: [], isCancelled: () => true }), CancelledError);
  });
});
