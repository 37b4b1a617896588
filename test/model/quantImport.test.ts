import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { importCheckpoint } from '../../server/import/importCheckpoint';
import type { QuantOptions } from '../../server/import/graph/quantize';
import { MoeTokenizer } from '../../server/model/tokenizer';
import { fidelity, type Fidelity } from '../../server/routing/fidelity';
import { softmax } from '../../server/routing/math';
import { fixtureDir, GraphRunner, golden, hubFolder } from '../support/hfFixtures';

/** The families whose QMoE graph is checked (quantPlan.checkBlocks refuses the others). */
const QUANT_ARCHS = ['mixtral', 'olmoe', 'qwen2_moe', 'qwen3_moe', 'deepseek_v2'] as const;

/** Longer texts beside the golden ones: code, prose, CJK (tokenised with each model's real tokenizer). */
export const LONG_TEXTS: Record<string, string> = {
  code: 'export function topK(values: number[], k: number): number[] {\n  const idx = values.map((_, i) => i);\n  idx.sort((a, b) => values[b] - values[a] || a - b);\n  return idx.slice(0, k);\n}\n\nfor (let i = 0; i < 10; i++) {\n\tif (i % 3 === 0) console.log("fizz " + i);\n}\n',
  prose: 'The committee met on a cold morning in late November. Nobody expected the vote to be close, and yet, by the time the clerk read the tally, half the room had stood up to argue that the question itself had been wrongly put. It was, one member said afterwards, the most honest hour the council had spent in years.',
  cjk: '混合专家模型在每一层为每个词元选择少数几个专家。路由器的决定决定了计算的去向。東京の朝は静かで、駅前の喫茶店だけが早くから開いている。한국어 문장도 하나 넣어 둡니다.',
};

const INT8: QuantOptions = { bits: 8, block: 32 };
const INT4: QuantOptions = { bits: 4, block: 32 };

/**
 * Quantised imports of the four architectures' golden fixtures against the fp32 import of the same checkpoint, on the
 * golden token ids and on longer code, prose and CJK: the issue's int8 goals (≥ 99% exact expert-set agreement where
 * the fp32 top-k margin is above 1e-2, mean KL(fp32 ‖ int8) ≤ 0.01 nats), int4 measured and printed. Then steering on
 * the int8 graph: bias 0 is the unsteered int8 graph bit for bit, disabled never selected, forced selected with the
 * weight its raw logit earns.
 */
describe('quantised import: fidelity vs fp32 and steering', function () {
  this.timeout(300000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-quant-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const table: string[] = [];
  after(() => console.log(`\n| checkpoint | quant | (layer, token) rows | mean top-k overlap | exact agreement, probability margin > 1e-2 | same, logit margin > 1e-2 | mean KL (nats) | p99 KL | mean abs Δ surprisal (nats) |\n|---|---|---|---|---|---|---|---|---|\n${table.join('\n')}`));

  it('refuses --quant for the families QMoE is not checked for, naming --quant', async () => {
    for (const arch of ['granitemoe', 'gpt_oss', 'phimoe', 'glm4_moe', 'deepseek_v3', 'deepseek_v3_plain']) {
      const hub = hubFolder(arch);
      try {
        await assert.rejects(importCheckpoint(hub, join(tmp, `${arch}-refused`), { quant: INT8 }), /--quant/);
      } finally {
        rmSync(hub, { recursive: true, force: true });
      }
    }
  });

  for (const arch of QUANT_ARCHS) {
    describe(arch, () => {
      const runners: Record<string, GraphRunner> = {};
      const texts: number[][] = [];
      before(async () => {
        const hub = hubFolder(arch);
        try {
          await importCheckpoint(hub, join(tmp, `${arch}-fp32`));
          await importCheckpoint(hub, join(tmp, `${arch}-int8`), { quant: INT8 });
          await importCheckpoint(hub, join(tmp, `${arch}-int4`), { quant: INT4 });
          await importCheckpoint(hub, join(tmp, `${arch}-int8-plain`), { quant: INT8, steerable: false });
        } finally {
          rmSync(hub, { recursive: true, force: true });
        }
        for (const k of ['fp32', 'int8', 'int4', 'int8-plain']) runners[k] = await GraphRunner.open(join(tmp, `${arch}-${k}`));
        for (const t of golden(arch).texts) texts.push(t.input_ids);
        const tok = await MoeTokenizer.fromFile(join(tmp, `${arch}-fp32`, 'tokenizer.json'));
        for (const text of Object.values(LONG_TEXTS)) texts.push(tok.encode(text).ids);
      });
      after(async () => {
        for (const r of Object.values(runners)) await r.dispose();
      });

      const measure = async (quant: 'int8' | 'int4'): Promise<Fidelity> => {
        const m = runners.fp32.manifest;
        const parts: Record<string, ArrayLike<number | bigint>[]> = { ids: [], router: [], logits: [], logprobs: [], qids: [], qlogits: [], qlogprobs: [] };
        for (const ids of texts) {
          const a = await runners.fp32.run(ids);
          const b = await runners[quant].run(ids);
          parts.ids.push(a[m.outputs.expertIds].data as BigInt64Array);
          parts.router.push(a[m.outputs.routerLogits].data as Float32Array);
          parts.logits.push(a[m.outputs.logits].data as Float32Array);
          parts.logprobs.push((a[m.outputs.tokenLogprobs!].data as Float32Array).subarray(1)); // position 0 has none
          parts.qids.push(b[m.outputs.expertIds].data as BigInt64Array);
          parts.qlogits.push(b[m.outputs.logits].data as Float32Array);
          parts.qlogprobs.push((b[m.outputs.tokenLogprobs!].data as Float32Array).subarray(1));
        }
        const cat = (k: string) => parts[k].flatMap((p) => Array.from(p, Number));
        const all = { ids: cat('ids'), router: cat('router'), logits: cat('logits'), logprobs: [0, ...cat('logprobs')] };
        const q = { ids: cat('qids'), logits: cat('qlogits'), logprobs: [0, ...cat('qlogprobs')] };
        // DeepSeek-V2 chooses within the best groups: its margin includes the group decision (routing/fidelity.ts)
        const cfg = JSON.parse(readFileSync(join(fixtureDir(arch), 'config.json'), 'utf8')) as { topk_method?: string; n_group?: number; topk_group?: number };
        const groups = cfg.topk_method === 'group_limited_greedy' ? { groups: cfg.n_group!, topkGroup: cfg.topk_group! } : undefined;
        const f = fidelity(all, q, { experts: m.experts, k: m.topK, vocab: m.vocabSize, groups }, 1e-2);
        const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
        table.push(`| ${arch} | ${quant} | ${f.rows} | ${pct(f.overlap)} | ${pct(f.agreement)} of ${f.agreementRows} | ${pct(f.logitAgreement)} of ${f.logitAgreementRows} | ${f.klMean.toExponential(2)} | ${f.klP99.toExponential(2)} | ${f.surprisalDelta.toExponential(2)} |`);
        return f;
      };

      it('moe.json records the quantisation; the data file is smaller than fp32', () => {
        const m = JSON.parse(readFileSync(join(tmp, `${arch}-int8`, 'moe.json'), 'utf8'));
        assert.equal(m.quantization.bits, 8);
        assert.equal(m.quantization.block, 32);
        assert.equal(m.provenance.importer.dtype, 'int8');
        assert.equal(JSON.parse(readFileSync(join(tmp, `${arch}-int4`, 'moe.json'), 'utf8')).quantization.bits, 4);
        assert.equal(JSON.parse(readFileSync(join(tmp, `${arch}-fp32`, 'moe.json'), 'utf8')).quantization, undefined);
      });

      it('laid out for pre-packing: the QMoE weights are defaulted graph inputs, the MatMulNBits weights constants', () => {
        assert.equal(JSON.parse(readFileSync(join(tmp, `${arch}-int4`, 'moe.json'), 'utf8')).quantization.prePacking, true);
        const graph = onnx.ModelProto.decode(readFileSync(join(tmp, `${arch}-int4`, 'model.onnx'))).graph!;
        const inputs = new Set(graph.input!.map((v) => v.name!));
        const stored = new Set(graph.initializer!.map((t) => t.name!));
        const qmoe = graph.node!.filter((n) => n.opType === 'QMoE');
        const nbits = graph.node!.filter((n) => n.opType === 'MatMulNBits');
        assert.ok(qmoe.length > 0 && nbits.length > 0);
        for (const n of qmoe) for (const i of [2, 3, 5, 6]) assert.ok(inputs.has(n.input![i]) && stored.has(n.input![i]), `${n.name} input ${i} (${n.input![i]})`);
        for (const n of nbits) assert.ok(!inputs.has(n.input![1]) && stored.has(n.input![1]), `${n.name} weight ${n.input![1]}`);
      });

      it('int8 meets the goals: ≥ 99% expert-set agreement above the margin, mean KL ≤ 0.01 nats', async () => {
        const f = await measure('int8');
        assert.ok(f.agreementRows > 0.5 * f.rows, `only ${f.agreementRows} of ${f.rows} rows above the margin`);
        assert.ok(f.agreement >= 0.99, `agreement ${f.agreement}`);
        assert.ok(f.klMean <= 0.01, `mean KL ${f.klMean}`);
      });

      it('int4 is measured (and worse than int8 but not broken)', async () => {
        const f = await measure('int4');
        assert.ok(f.overlap > 0.5, `overlap ${f.overlap}`);
      });

      it('int8 steering: bias 0 is the unsteered int8 graph bit for bit; disable and force keep their meaning', async () => {
        const s = runners.int8;
        const m = s.manifest;
        const ids = texts[0];
        const a = await s.run(ids);
        const b = await runners['int8-plain'].run(ids);
        for (const name of Object.values(m.outputs)) assert.deepEqual(a[name].data, b[name].data, name);
        const { layers: L, experts: E, topK: K } = m;
        const T = ids.length;
        const baseIds = a[m.outputs.expertIds].data as BigInt64Array;
        const c = new Array<number>(E).fill(0);
        for (let i = 0; i < T * K; i++) c[Number(baseIds[i])]++;
        const off = c.indexOf(Math.max(...c));
        const cl = new Array<number>(E).fill(0);
        for (let i = (L - 1) * T * K; i < L * T * K; i++) cl[Number(baseIds[i])]++;
        const on = cl.indexOf(Math.min(...cl));
        const bias = new Float32Array(L * E);
        bias[off] = m.router.disableBias;
        bias[(L - 1) * E + on] = m.router.forceBias;
        const o = await s.run(ids, bias);
        const eids = o[m.outputs.expertIds].data as BigInt64Array;
        const w = o[m.outputs.expertWeights].data as Float32Array;
        const raw = o[m.outputs.routerLogits].data as Float32Array;
        const renorm = m.router.function === 'softmax-topk-renormalized';
        for (let t = 0; t < T; t++) {
          assert.ok(!Array.from(eids.subarray(t * K, (t + 1) * K), Number).includes(off), `token ${t}: disabled expert selected`);
          const r = (L - 1) * T + t;
          const sel = Array.from(eids.subarray(r * K, (r + 1) * K), Number);
          assert.ok(sel.includes(on), `token ${t}: forced expert not selected`);
          const p = softmax(raw, r * E, E);
          const want = p[on] / (renorm ? sel.reduce((x, e) => x + p[e], 0) : 1);
          assert.ok(Math.abs(w[r * K + sel.indexOf(on)] - want) < 1e-6, `token ${t}: forced weight`);
        }
        assert.notDeepEqual(o[m.outputs.logits].data, a[m.outputs.logits].data);
      });
    });
  }
});
