import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoutingResult, SteeringRule } from '../../common/protocol';
import { analyzeText } from '../../server/analysis/analyzer';
import { ModelSession } from '../../server/model/modelSession';
import { biasFromRules } from '../../server/routing/expertBias';
import { charClass } from '../../server/steering/charClass';
import { findContrastiveExperts } from '../../server/steering/contrastive';
import { compareContinuation, endOfTextId, generate } from '../../server/steering/generate';
import { expertLabels, labelCacheFile, labelCacheKey, readProfileCorpus } from '../../server/steering/labels';
import { nextTokenChange } from '../../server/steering/nextToken';
import { argmax } from '../../server/steering/prng';
import { modelCopyWithoutLabels } from '../support/hostileModels';
import { embeddedModel } from '../support/paths';

const DIGITS = 'values = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38]\nphone = "555 0123 4567"\ndate = "2024-11-23 01:25:00"\ntotal = 1024 * 768 + 4096 - 2048\n';
const PROMPT = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    if n < 2:\n        return n\n    return ';

/** The experts of token t at layer l (token-major result arrays). */
const topk = (r: RoutingResult, t: number, l: number) => r.experts.slice((t * r.model.layers + l) * r.model.topK, (t * r.model.layers + l + 1) * r.model.topK);

describe('steering features on the embedded model', function () {
  let s: ModelSession;
  let trained = false;
  const labelDir = mkdtempSync(join(tmpdir(), 'moe-lens-labels-'));
  const profile = (domain: string) => readFileSync(join(embeddedModel, s.manifest.profileCorpus!.domains[domain]), 'utf8');
  before(async () => {
    s = await ModelSession.load(embeddedModel, 'cpu');
    // The random-init placeholder has no metrics; properties of a trained model (domain experts) are checked only then.
    trained = s.manifest.provenance?.metrics != null && !/random/i.test(s.manifest.name);
  });
  after(() => s.dispose());

  it('disabling the layer-0 expert most used by digits changes exactly the layer-0 routing of the tokens that used it', async () => {
    const base = await analyzeText(s, DIGITS, 1, { maxTokens: 4096, rules: [] });
    const L = s.info.layers;
    const digitTokens = [...Array(base.tokens).keys()].filter((t) => charClass(s.tokenizer.tokenText(base.ids[t])) === 'digits');
    assert.ok(digitTokens.length >= 10, `only ${digitTokens.length} digit tokens`);
    const uses = new Array<number>(s.info.experts).fill(0);
    for (const t of digitTokens) for (const e of topk(base, t, 0)) uses[e]++;
    const expert = argmax(uses);
    const steered = await analyzeText(s, DIGITS, 1, { maxTokens: 4096, rules: [{ layer: 0, expert, mode: 'disable' }] });
    let changed = 0;
    let kept = 0;
    for (let t = 0; t < base.tokens; t++) {
      const before = topk(base, t, 0);
      const after = topk(steered, t, 0);
      assert.ok(!after.includes(expert), `token ${t} still routed to the disabled expert`);
      if (before.includes(expert)) {
        assert.notDeepEqual(after, before);
        changed++;
      } else {
        // layer 0's router input comes before any expert output, so steering cannot reach these tokens there
        assert.deepEqual(after, before, `token ${t} changed at layer 0 without using expert ${expert}`);
        const w = (r: RoutingResult) => r.weights.slice(t * L * s.info.topK, t * L * s.info.topK + s.info.topK);
        assert.deepEqual(w(steered), w(base));
        kept++;
      }
    }
    console.log(`      layer-0 expert ${expert}: taken by ${uses[expert]}/${digitTokens.length} digit tokens; ${changed} tokens rerouted, ${kept} unchanged`);
    assert.ok(changed >= uses[expert] && kept > 0);
  });

  it('forcing an expert puts it in the top-k of every token at that layer', async () => {
    const text = profile('python').slice(0, 1500);
    const base = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [] });
    const layer = 2;
    const uses = new Array<number>(s.info.experts).fill(0);
    for (let t = 0; t < base.tokens; t++) for (const e of topk(base, t, layer)) uses[e]++;
    const expert = uses.indexOf(Math.min(...uses)); // the least used: forcing it is a real change
    assert.ok(uses[expert] < base.tokens);
    const forced = await analyzeText(s, text, 1, { maxTokens: 4096, rules: [{ layer, expert, mode: 'force' }] });
    for (let t = 0; t < forced.tokens; t++) assert.ok(topk(forced, t, layer).includes(expert), `token ${t}`);
  });

  it('greedy continuation is deterministic, and the KV-cached steps match recomputing the whole sequence', async () => {
    const ids = s.tokenizer.encode(PROMPT).ids;
    const a = await generate(s, ids, { maxNewTokens: 16 });
    const b = await generate(s, ids, { maxNewTokens: 16 });
    assert.deepEqual(a.ids, b.ids);
    assert.equal(a.text, b.text);
    assert.ok(a.ids.length > 0);
    const full = await s.forward([...ids, ...a.ids], new Float32Array(s.info.layers * s.info.experts));
    const V = s.info.vocabSize;
    for (let i = 0; i < a.ids.length; i++) assert.equal(argmax(full.logits, (ids.length - 1 + i) * V, V), a.ids[i], `step ${i}`);
    const sampledA = await generate(s, ids, { maxNewTokens: 16, temperature: 1, seed: 7 });
    const sampledB = await generate(s, ids, { maxNewTokens: 16, temperature: 1, seed: 7 });
    assert.deepEqual(sampledA.ids, sampledB.ids);
    console.log(`      greedy: ${JSON.stringify(a.text)}\n      sampled (T=1, seed 7): ${JSON.stringify(sampledA.text)}`);
  });

  it('disabling at every layer the top-1 expert the prompt relies on changes the continuation', async () => {
    const r = await analyzeText(s, PROMPT, 1, { maxTokens: 4096, rules: [] });
    const rules: SteeringRule[] = [];
    for (let l = 0; l < s.info.layers; l++) {
      const top1 = new Array<number>(s.info.experts).fill(0);
      for (let t = 0; t < r.tokens; t++) top1[topk(r, t, l)[0]]++;
      rules.push({ layer: l, expert: argmax(top1), mode: 'disable' });
    }
    let progress = 0;
    const c = await compareContinuation(s, PROMPT + '\n# tail after the cursor', PROMPT.length, { maxNewTokens: 24, onProgress: () => progress++ }, rules);
    console.log(`      baseline: ${JSON.stringify(c.baseline)}\n      steered:  ${JSON.stringify(c.steered)} (first divergence at token ${c.firstDivergence})`);
    assert.notEqual(c.steered, c.baseline);
    assert.ok(c.firstDivergence >= 0);
    assert.equal(c.tokens.prompt, r.tokens);
    assert.equal(progress, c.tokens.baseline.length + c.tokens.steered.length);
    const same = await compareContinuation(s, PROMPT, PROMPT.length, { maxNewTokens: 8 }, []);
    assert.equal(same.firstDivergence, -1);
    assert.equal(same.steered, same.baseline);
  });

  it('cancellation: isCancelled turning true after 3 tokens stops within one step', async () => {
    const ids = s.tokenizer.encode(PROMPT).ids;
    let calls = 0;
    const forward = s.forward.bind(s);
    const counted = Object.create(s, { forward: { value: (...a: Parameters<ModelSession['forward']>) => (calls++, forward(...a)) } }) as ModelSession;
    let n = 0;
    const g = await generate(counted, ids, { maxNewTokens: 50, onToken: () => n++, isCancelled: () => n >= 3 });
    assert.equal(g.stop, 'cancelled');
    assert.equal(g.ids.length, 3);
    assert.equal(calls, 3);
    calls = 0;
    const early = await generate(counted, ids, { isCancelled: () => true });
    assert.deepEqual([early.ids.length, early.stop, calls], [0, 'cancelled', 0]);
  });

  it('a prompt longer than the context keeps its last (context − maxNewTokens) tokens', async () => {
    const ids = s.tokenizer.encode(profile('c_cpp')).ids;
    assert.ok(ids.length > s.info.contextLength);
    const g = await generate(s, ids, { maxNewTokens: 4 });
    assert.equal(g.promptTokens, s.info.contextLength - 4);
    assert.equal(g.droppedPromptTokens, ids.length - g.promptTokens);
    const empty = await generate(s, [], { maxNewTokens: 2 });
    assert.equal(empty.promptTokens, 1); // started from <|endoftext|>
    assert.ok(endOfTextId(s) >= 0);
  });

  it('next-token change: zero KL without rules, positive once the prompt experts are disabled', async () => {
    const ids = s.tokenizer.encode(PROMPT).ids;
    const t = ids.length - 1;
    const none = await nextTokenChange(s, ids, t, []);
    assert.equal(none.klNats, 0);
    assert.equal(none.baseline.length, 3);
    const rules: SteeringRule[] = [{ layer: '*', expert: (await s.forward(ids, new Float32Array(s.info.layers * s.info.experts))).expertIds[ids.length - 1 /* layer 0, last token, k 0 */ * s.info.topK], mode: 'disable' }];
    const steered = await nextTokenChange(s, ids, t, rules);
    assert.ok(steered.klNats > 0);
    assert.deepEqual(steered.baseline, none.baseline);
    const direct = await s.forward(ids, biasFromRules(rules, s.info, s.manifest));
    assert.equal(steered.steered[0].id, argmax(direct.logits, t * s.info.vocabSize, s.info.vocabSize));
  });

  // the embedded model ships its labels (test/model/shippedLabels.test.ts): a copy without them computes them
  it('expert labels are computed once per model and cached as JSON', async function () {
    this.timeout(180000);
    const t = await ModelSession.load(modelCopyWithoutLabels(), 'cpu');
    try {
      const set = await expertLabels(t, labelDir);
      assert.ok(set?.profiles, 'computed, not read from a file');
      assert.equal(set.labels.length, t.info.layers);
      assert.ok(set.labels.every((row) => row.length === t.info.experts && row.every((x) => typeof x === 'string' && x.length > 0)));
      const file = labelCacheFile(labelDir, labelCacheKey(t.modelId, await readProfileCorpus(t)));
      assert.ok(existsSync(file));
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).labels, set.labels);
      assert.equal(await expertLabels(t, labelDir), await expertLabels(t, labelDir), 'once per model: the same promise');
      console.log(`      layer 0 labels: ${set.labels[0].slice(0, 6).map((x, e) => `${e}: ${x}`).join(' | ')}`);
    } finally {
      await t.dispose();
    }
  });

  it('ΔP python vs markdown: ranked experts, and switching off the top 8 vs 5 random draws of 8', async function () {
    this.timeout(600000);
    const labels = (await expertLabels(s, labelDir))!.labels;
    const started = Date.now();
    const r = await findContrastiveExperts(s, [profile('python')], [profile('markdown')], { n: 8, randomDraws: 5, seed: 1, labels, maxTokens: 2048 });
    assert.equal(r.rows.length, s.info.layers * s.info.experts);
    for (let i = 1; i < r.rows.length; i++) assert.ok(r.rows[i - 1].deltaP >= r.rows[i].deltaP);
    assert.equal(r.disable.length, 8);
    assert.equal(r.measure.random.length, 5);
    const m = r.measure;
    console.log(`      top ΔP: ${r.rows.slice(0, 5).map((x) => `L${x.layer}E${x.expert} ${x.deltaP.toFixed(3)} "${x.label}"`).join('; ')}`);
    console.log(`      M = mean surprisal(python) − mean surprisal(markdown), bits: none ${m.none.toFixed(3)}, ΔP-top-8 disabled ${m.topN.toFixed(3)} (effect ${m.effectTopN.toFixed(3)}), random 8 ×5: mean ${m.randomSpread.mean.toFixed(3)} ± ${m.randomSpread.std.toFixed(3)} (effect ${m.effectRandom.toFixed(3)}) [${m.random.map((x) => x.toFixed(3)).join(', ')}] in ${Date.now() - started} ms`);
    if (!trained) return; // the random-init placeholder has no domain experts to find
    const pythonish = r.rows.slice(0, 3).filter((x) => /python/i.test(x.label ?? '')).length;
    assert.ok(pythonish >= 2, `top-3 labels: ${r.rows.slice(0, 3).map((x) => x.label).join(' | ')}`);
    assert.ok(m.effectTopN > m.effectRandom, 'the ΔP experts should matter more for python than random ones');
  });
});
