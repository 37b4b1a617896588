import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCheckpoint } from '../../server/import/importCheckpoint';
import { entropyNats, softmax } from '../../server/routing/math';
import { readFileSync } from 'node:fs';
import { fixtureDir, GraphRunner, golden, hubFolder, hubRoot } from '../support/hfFixtures';
import { sparsemixerReference } from '../support/sparsemixerReference';

/**
 * Steering and the KV cache on imported graphs: bias 0 is the unsteered graph bit for bit, a disabled expert is never
 * selected, a forced one always is and keeps the weight its raw router probability earns, and continuing from the
 * cache equals one full pass. OLMoE (norm_topk_prob false) and Qwen3-MoE (renormalised, a dense layer) cover both
 * weight conventions and a KV cache with more layers than routers; Granite-MoE and gpt-oss (top-k on the logits, softmax
 * over the k; gpt-oss with router bias, sliding layers and sinks in the cache) and Phi-3.5-MoE (sparsemixer, checked
 * against an independent reference of transformers' code at every token of the steered layers) and GLM-4.5 (sigmoid
 * scores chosen with a correction bias within expert groups, weighted by the unbiased scores) the newer routers.
 */
describe('import: steering semantics and KV cache', function () {
  this.timeout(120000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-import-steer-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const arch of ['olmoe', 'qwen3_moe', 'granitemoe', 'gpt_oss', 'phimoe', 'glm4_moe', 'deepseek_v3', 'deepseek_v2', 'deepseek_v3_plain']) {
    describe(arch, () => {
      let steerable: GraphRunner;
      let plain: GraphRunner;
      const ids = golden(arch).texts[0].input_ids;
      before(async () => {
        const hub = hubFolder(arch);
        try {
          await importCheckpoint(hub, join(tmp, `${arch}-steer`));
          await importCheckpoint(hub, join(tmp, `${arch}-plain`), { steerable: false });
        } finally {
          rmSync(hubRoot(hub), { recursive: true, force: true });
        }
        steerable = await GraphRunner.open(join(tmp, `${arch}-steer`));
        plain = await GraphRunner.open(join(tmp, `${arch}-plain`));
      });
      after(async () => {
        await steerable?.dispose();
        await plain?.dispose();
      });

      it('the unsteered graph has no expert_bias input; bias 0 gives it bit for bit', async () => {
        assert.ok(!plain.inputNames.includes('expert_bias'));
        const a = await steerable.run(ids);
        const b = await plain.run(ids);
        for (const name of Object.values(steerable.manifest.outputs)) assert.deepEqual(a[name].data, b[name].data, name);
      });

      it('a disabled expert is never selected; a forced one always is, with the weight its raw logit earns', async () => {
        const m = steerable.manifest;
        const { layers: L, experts: E, topK: K } = m;
        const T = ids.length;
        const base = await steerable.run(ids);
        const baseIds = base[m.outputs.expertIds].data as BigInt64Array;
        // the expert most often chosen at layer 0 is disabled; the least often chosen at the last layer is forced
        const count = (l: number) => {
          const c = new Array<number>(E).fill(0);
          for (let i = l * T * K; i < (l + 1) * T * K; i++) c[Number(baseIds[i])]++;
          return c;
        };
        const c0 = count(0);
        const off = c0.indexOf(Math.max(...c0));
        const cl = count(L - 1);
        const on = cl.indexOf(Math.min(...cl));
        const bias = new Float32Array(L * E);
        bias[off] = m.router.disableBias;
        bias[(L - 1) * E + on] = m.router.forceBias;
        const o = await steerable.run(ids, bias);
        const eids = o[m.outputs.expertIds].data as BigInt64Array;
        const w = o[m.outputs.expertWeights].data as Float32Array;
        const raw = o[m.outputs.routerLogits].data as Float32Array;
        const fn = m.router.function;
        const renorm = fn === 'softmax-topk-renormalized' || fn === 'topk-softmax'; // softmax over the k = renormalised
        const cfg = JSON.parse(readFileSync(join(fixtureDir(arch), 'config.json'), 'utf8')) as { router_jitter_noise?: number; norm_topk_prob?: boolean };
        const jitter = cfg.router_jitter_noise ?? 0;
        const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
        for (let t = 0; t < T; t++) {
          if (fn === 'sparsemixer-top2') {
            // Phi-MoE: ids and both weights as transformers' sparsemixer gives them under the steering convention
            for (const l of [0, L - 1]) {
              const r = l * T + t;
              const ref = sparsemixerReference(raw.subarray(r * E, (r + 1) * E), bias.subarray(l * E, (l + 1) * E), jitter);
              assert.deepEqual(Array.from(eids.subarray(r * K, (r + 1) * K), Number), ref.ids, `token ${t} layer ${l}`);
              for (let k = 0; k < K; k++) assert.ok(Math.abs(w[r * K + k] - ref.weights[k]) < 1e-6, `token ${t} layer ${l}: weight ${w[r * K + k]} vs ${ref.weights[k]}`);
            }
          }
          const sel0 = Array.from(eids.subarray(t * K, (t + 1) * K), Number);
          assert.ok(!sel0.includes(off), `token ${t}: disabled expert ${off} selected at layer 0`);
          const r = (L - 1) * T + t;
          const sel = Array.from(eids.subarray(r * K, (r + 1) * K), Number);
          assert.ok(sel.includes(on), `token ${t}: forced expert ${on} not selected at layer ${L - 1}`);
          const p = softmax(raw, r * E, E);
          const mass = sel.reduce((s, e) => s + p[e], 0);
          // GLM-4.5 (sigmoid-topk): the forced expert's own sigmoid score among the chosen ones' (expert_weights leave out
          // routed_scaling_factor)
          const sigmoidMass = sel.reduce((s, e) => s + sigmoid(raw[r * E + e]), 0);
          const want = fn === 'sparsemixer-top2' ? sparsemixerReference(raw.subarray(r * E, (r + 1) * E), bias.subarray((L - 1) * E, L * E), jitter).weights[sel.indexOf(on)]
            : fn === 'sigmoid-topk' ? sigmoid(raw[r * E + on]) / (cfg.norm_topk_prob === false ? 1 : sigmoidMass)
            : p[on] / (renorm ? mass : 1);
          assert.ok(Math.abs(w[r * K + sel.indexOf(on)] - want) < 1e-6, `token ${t}: forced weight ${w[r * K + sel.indexOf(on)]} vs ${want}`);
        }
        // steering changed the model's output
        assert.notDeepEqual(o[m.outputs.logits].data, base[m.outputs.logits].data);
      });

      it('router entropy and token log-probabilities are the ones the server would compute', async () => {
        const m = steerable.manifest;
        const o = await steerable.run(ids);
        const T = ids.length;
        const raw = o[m.outputs.routerLogits].data as Float32Array;
        const ent = o[m.outputs.routerEntropy!].data as Float32Array;
        for (let i = 0; i < m.layers * T; i++) assert.ok(Math.abs(ent[i] - entropyNats(raw, i * m.experts, m.experts)) < 1e-5);
        const logits = o[m.outputs.logits].data as Float32Array;
        const lp = o[m.outputs.tokenLogprobs!].data as Float32Array;
        const V = m.vocabSize;
        assert.equal(lp[0], 0);
        for (let t = 1; t < T; t++) {
          let max = -Infinity;
          for (let v = 0; v < V; v++) max = Math.max(max, logits[(t - 1) * V + v]);
          let sum = 0;
          for (let v = 0; v < V; v++) sum += Math.exp(logits[(t - 1) * V + v] - max);
          // 1e-4, plus float32's relative error for gpt-oss's far-off tokens: its 200k-entry log-sum-exp, summed in
          // float32 by onnxruntime, is off by 1.4e-4 at a log-probability of −31 (relative 4.5e-6)
          const want = logits[(t - 1) * V + ids[t]] - max - Math.log(sum);
          assert.ok(Math.abs(lp[t] - want) < 1e-4 + 1e-5 * Math.abs(want), `token ${t}: ${lp[t]} vs ${want}`);
        }
      });

      it('continuing from the KV cache equals one full pass', async () => {
        const m = steerable.manifest;
        const split = Math.floor(ids.length / 2);
        const full = await steerable.run(ids);
        const first = await steerable.run(ids.slice(0, split));
        const rest = await steerable.run(ids.slice(split), undefined, steerable.present(first));
        assert.equal(steerable.present(rest).length, 2 * (m.kvCache.layers ?? m.layers));
        const V = m.vocabSize;
        const a = full[m.outputs.logits].data as Float32Array;
        const b = rest[m.outputs.logits].data as Float32Array;
        let max = 0;
        for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(a[split * V + i] - b[i]));
        assert.ok(max < 1e-4, `max |Δlogit| ${max}`);
        const T = ids.length;
        const fullIds = full[m.outputs.expertIds].data as BigInt64Array;
        const restIds = rest[m.outputs.expertIds].data as BigInt64Array;
        const K = m.topK;
        for (let l = 0; l < m.layers; l++) {
          assert.deepEqual(restIds.subarray(l * (T - split) * K, (l + 1) * (T - split) * K), fullIds.subarray((l * T + split) * K, (l + 1) * T * K), `layer ${l}`);
        }
      });
    });
  }
});
