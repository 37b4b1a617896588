import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelSpec } from '../../server/import/config';
import { GPT_OSS_SWIGLU } from '../../server/import/families/gptOss';
import { DataFile, GraphBuilder } from '../../server/import/graph/builder';
import { moeBlock } from '../../server/import/graph/moeLayer';
import type { WeightSource } from '../../server/import/graph/weights';
import { layerNames } from '../../server/import/tensorNames';
import { softmax, topK } from '../../server/routing/math';
import { rng } from '../support/safetensorsWriter';

/**
 * The probe behind graph/moeLayer.ts's claim that the MoE op's activation_alpha 1.702, activation_beta 1 and
 * swiglu_limit 7 are gpt-oss's expert activation exactly: one gpt-oss MoE block (router with bias, experts with
 * biases, bf16-layout gate_up_proj [E, H, 2I] interleaved and down_proj [E, I, H]) against a float64 JS transcription
 * of transformers 5.18's GptOssTopKRouter + GptOssExperts (gate.clamp(max=7), up.clamp(±7), (up + 1)·gate·σ(1.702·gate)),
 * on inputs large enough that both clamps act, unsteered and with an expert disabled and one forced.
 */
describe('import graph: a gpt-oss MoE block vs transformers’ arithmetic (clamped SwiGLU)', function () {
  this.timeout(60000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-gptoss-block-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const [T, H, E, K, I] = [9, 8, 6, 3, 5];

  it('outputs, ids and gate weights match; the clamps were exercised', async () => {
    const r = rng(11);
    const w = new Map<string, Float32Array>();
    const spec = { architecture: 'GptOssForCausalLM', hidden: H, experts: E, topK: K, expertWidth: I, normTopK: true, sharedWidth: 0, expertActivation: 'swiglu', routerBias: true, expertBiases: true, swiglu: GPT_OSS_SWIGLU } as ModelSpec;
    const n = layerNames(spec, 0);
    const src: WeightSource = {
      has: (name) => w.has(name) || !name.endsWith('_blocks'),
      read: (name, shape) => {
        if (!w.has(name)) w.set(name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r()));
        return w.get(name)!;
      },
    };
    const data = new DataFile(join(tmp, 'd.bin'), 'd.bin');
    const g = new GraphBuilder(data);
    const x = g.input({ name: 'x', elemType: 'float32', dims: ['T', H] });
    const b = g.input({ name: 'b', elemType: 'float32', dims: [E] });
    const block = moeBlock(g, src, spec, n, x, b);
    g.output(block.out, { name: 'y', elemType: 'float32', dims: ['T', H] });
    g.output(block.routing.expertIds, { name: 'ids', elemType: 'int64', dims: ['T', K] });
    g.output(block.routing.expertWeights, { name: 'w', elemType: 'float32', dims: ['T', K] });
    data.close();
    const file = join(tmp, 'm.onnx');
    writeFileSync(file, g.encode('test'));
    const session = await ort.InferenceSession.create(file);

    const xs = Float32Array.from({ length: T * H }, () => r() * 20);
    const gateUp = w.get(n.fusedGateUp)!; // [E, H, 2I]: x @ W
    const gateUpBias = w.get(`${n.fusedGateUp}_bias`)!;
    const down = w.get(n.fusedDown)!; // [E, I, H]
    const downBias = w.get(`${n.fusedDown}_bias`)!;
    const router = w.get(n.router)!;
    const routerBias = w.get(n.routerBias!)!;
    let clampedGate = 0;
    let clampedUp = 0;
    const expert = (v: number[], e: number) => {
      const gu = Array.from({ length: 2 * I }, (_, j) => gateUpBias[e * 2 * I + j] + v.reduce((s, q, h) => s + q * gateUp[(e * H + h) * 2 * I + j], 0));
      const act = Array.from({ length: I }, (_, i) => {
        const [g0, u0] = [gu[2 * i], gu[2 * i + 1]];
        if (g0 > 7) clampedGate++;
        if (Math.abs(u0) > 7) clampedUp++;
        const gate = Math.min(g0, 7);
        const up = Math.min(Math.max(u0, -7), 7);
        return (up + 1) * gate / (1 + Math.exp(-1.702 * gate));
      });
      return Array.from({ length: H }, (_, h) => downBias[e * H + h] + act.reduce((s, a, i) => s + a * down[(e * I + i) * H + h], 0));
    };
    for (const bias of [new Float32Array(E), Float32Array.from({ length: E }, (_, e) => (e === 0 ? -1e9 : e === 5 ? 1e9 : 0))]) {
      const o = await session.run({ x: new ort.Tensor('float32', xs, [T, H]), b: new ort.Tensor('float32', bias, [E]) });
      const y = o.y.data as Float32Array;
      const ids = o.ids.data as BigInt64Array;
      const gw = o.w.data as Float32Array;
      let max = 0;
      for (let t = 0; t < T; t++) {
        const v = Array.from(xs.subarray(t * H, (t + 1) * H));
        const raw = Array.from({ length: E }, (_, e) => routerBias[e] + v.reduce((s, q, h) => s + q * router[e * H + h], 0));
        const sel = topK(raw.map((q, e) => q + bias[e]), K);
        const weights = softmax(sel.map((e) => raw[e])); // top-k on the logits, softmax over the k
        const want = new Array<number>(H).fill(0);
        sel.forEach((e, k) => {
          assert.equal(Number(ids[t * K + k]), e);
          assert.ok(Math.abs(gw[t * K + k] - weights[k]) < 1e-6, `token ${t}: weight ${gw[t * K + k]} vs ${weights[k]}`);
          expert(v, e).forEach((q, j) => (want[j] += weights[k] * q));
        });
        for (let j = 0; j < H; j++) max = Math.max(max, Math.abs(y[t * H + j] - want[j]));
      }
      console.log(`      gpt-oss block, bias ${bias[0] === 0 ? "0" : "disable E0, force E5"}: max |Δ| ${max.toExponential(2)}`);
      assert.ok(max < 1e-4, `max |Δ| ${max}`);
      if (bias[0] !== 0) for (let t = 0; t < T; t++) assert.ok(Array.from(ids.subarray(t * K, (t + 1) * K), Number).includes(5) && !Array.from(ids.subarray(t * K, (t + 1) * K), Number).includes(0));
    }
    console.log(`      clamped: ${clampedGate} gates > 7, ${clampedUp} |up| > 7 of ${2 * T * K * I}`);
    assert.ok(clampedGate > 0 && clampedUp > 0, `clamps exercised: gate ${clampedGate}, up ${clampedUp}`);
    await session.release();
  });
});
