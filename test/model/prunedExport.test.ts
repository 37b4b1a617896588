import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importanceScores, keepCount, keptByScore, prunedPairs } from '../../common/expertImportance';
import { importCheckpoint } from '../../server/import/importCheckpoint';
import { ModelSession } from '../../server/model/modelSession';
import { biasFromRules } from '../../server/routing/expertBias';
import { profileCorpus } from '../../server/prune/corpusProfile';
import { disableRules } from '../../server/prune/evalBits';
import { exportReduced, planFromKept } from '../../server/prune/exportModel';
import { readMoeGraph } from '../../server/prune/moeGraph';
import { HF_ARCHS, hubFolder } from '../support/hfFixtures';
import { embeddedModel } from '../support/paths';

/**
 * Pruning two ways (docs/PRUNING.md): (a) steering that disables the pruned experts and (b) an exported model
 * directory with them removed from the weights and the router. Both must select the same experts (in the exported
 * model's numbering) and give the same logits, on the embedded model and on each
 * imported fixture. Renormalising routers (Mixtral, Qwen3-MoE, the embedded model) give the same gate weights; OLMoE
 * and Qwen2-MoE (norm_topk_prob false) weight by the full softmax, whose denominator loses the removed experts: there
 * the exported model is the router without those experts (as REAP's checkpoints are): the first router layer (same
 * hidden states) must route the same, and the later ones see hidden states that differ by that reweighting.
 */
describe('pruned model: steering (a) and the exported directory (b) agree', function () {
  this.timeout(300000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-prune-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const text = readFileSync(join(embeddedModel, 'profile', 'python.txt'), 'utf8').slice(0, 3000);

  async function compare(dir: string, name: string, renormalises: boolean) {
    const g = readMoeGraph(dir);
    const { experts: E, topK: K } = g.manifest;
    const profile = await profileCorpus(g, [text], { maxTokens: 4096 });
    const reap = importanceScores(profile.counts, 'reap');
    for (let l = 0; l < reap.length; l++) assert.ok(reap[l].some((x) => x > 0), `${name}: layer ${l} has REAP scores`);
    const keep = keepCount(0.5, E, K);
    const kept = keptByScore(reap, keep);
    const out = join(tmp, name);
    exportReduced(g, planFromKept(kept), out, { method: 'test' });
    const steered = await ModelSession.load(dir, 'cpu');
    const pruned = await ModelSession.load(out, 'cpu');
    try {
      assert.equal(pruned.info.experts, keep);
      const ids = steered.tokenizer.encode(text).ids.slice(0, 96);
      const rules = disableRules(prunedPairs(kept, E));
      const a = await steered.forward(ids, biasFromRules(rules, steered.info, steered.manifest));
      const b = await pruned.forward(ids, new Float32Array(pruned.info.layers * keep));
      const T = ids.length;
      // Without renormalisation the gate weights differ from layer 0 on, so later layers see other hidden states.
      for (let l = 0; l < (renormalises ? g.manifest.layers : 1); l++) {
        for (let t = 0; t < T; t++) {
          const ea = Array.from(a.expertIds.subarray((l * T + t) * K, (l * T + t + 1) * K));
          const eb = Array.from(b.expertIds.subarray((l * T + t) * K, (l * T + t + 1) * K)).map((e) => kept[l][e]);
          assert.deepEqual(eb, ea, `${name}: layer ${l} token ${t} routes the same`);
        }
      }
      if (renormalises) {
        let max = 0;
        for (let i = 0; i < a.logits.length; i++) max = Math.max(max, Math.abs(a.logits[i] - b.logits[i]));
        assert.ok(max <= 1e-4, `${name}: logits within 1e-4 (max |Δ| ${max})`);
      }
    } finally {
      await steered.dispose();
      await pruned.dispose();
    }
  }

  it('embedded model', async () => {
    await compare(embeddedModel, 'embedded', true);
  });

  const imported = async (arch: string): Promise<string> => {
    const dir = join(tmp, `${arch}-imported`);
    const hub = hubFolder(arch);
    try {
      await importCheckpoint(hub, dir);
    } finally {
      rmSync(hub, { recursive: true, force: true });
    }
    return dir;
  };

  // gpt-oss's experts carry biases (a MoE node with six inputs): the pruning reader refuses it by name, never cuts it wrong
  // GLM-4.5's and DeepSeek's grouped routers: the exporter refuses them (below)
  const grouped: { arch: string; message: RegExp }[] = [
    { arch: 'glm4_moe', message: /sigmoid-topk: equal expert groups and a correction bias per expert\) cannot be exported/ },
    { arch: 'deepseek_v3', message: /sigmoid-topk: equal expert groups and a correction bias per expert\) cannot be exported/ },
    { arch: 'deepseek_v2', message: /group-limited-softmax-topk: equal expert groups\) cannot be exported/ },
    { arch: 'deepseek_v3_plain', message: /sigmoid-topk: equal expert groups and a correction bias per expert\) cannot be exported/ },
  ];
  for (const arch of HF_ARCHS.filter((a) => a !== 'gpt_oss' && !grouped.some((x) => x.arch === a))) {
    it(`imported ${arch}`, async () => {
      const dir = await imported(arch);
      const m = JSON.parse(readFileSync(join(dir, 'moe.json'), 'utf8')) as { router: { function: string } };
      await compare(dir, arch, m.router.function === 'softmax-topk-renormalized');
    });
  }

  it('imported gpt_oss (biased experts) is refused naming its MoE node', async () => {
    const dir = await imported('gpt_oss');
    await assert.rejects(compare(dir, 'gpt_oss', true), /MoE node \S+ is not laid out as moe-lens import builds it/);
  });

  for (const { arch, message } of grouped) {
    it(`imported ${arch} (grouped router) is refused at export, naming its router, and writes nothing`, async () => {
      const dir = await imported(arch);
      const g = readMoeGraph(dir);
      const out = join(tmp, `${arch}-pruned`);
      assert.throws(() => exportReduced(g, planFromKept(g.layers.map(() => [0, 1, 2, 3])), out, { method: 'test' }), message);
      assert.ok(!existsSync(out));
    });
  }

  it('refuses an existing output folder and writes nothing', () => {
    const g = readMoeGraph(embeddedModel);
    assert.throws(() => exportReduced(g, planFromKept(g.layers.map(() => [0, 1])), tmp, { method: 'test' }), /already exists/);
  });
});
