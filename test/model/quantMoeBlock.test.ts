import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelSpec } from '../../server/import/config';
import { DataFile, GraphBuilder } from '../../server/import/graph/builder';
import { moeBlock } from '../../server/import/graph/moeLayer';
import { accuracyLevel } from '../../server/import/graph/quantLayers';
import { dequantizeRows, quantizeRows, type QuantOptions } from '../../server/import/graph/quantize';
import type { WeightSource } from '../../server/import/graph/weights';
import { layerNames } from '../../server/import/tensorNames';
import { softmax, topK } from '../../server/routing/math';
import { rng } from '../support/safetensorsWriter';
import { int8Activations, linear, swigluMlp } from '../support/referenceMlp';

/**
 * One quantised MoE block (float32 router, com.microsoft.QMoE experts, MatMulNBits shared expert) against a plain JS
 * float reference computed with the dequantised weights, unsteered and steered: the gate weights must be
 * transformers' own (renormalised or not) although the op, without router_weights, would renormalise always.
 */
describe('quantised import graph: one MoE block vs a JS reference of the dequantised weights', function () {
  this.timeout(60000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-qblock-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const [T, H, E, K, I, S] = [7, 64, 6, 2, 32, 32];

  for (const bits of [8, 4] as const) {
    for (const [normTopK, shared] of [[true, false], [false, false], [false, true]] as const) {
      it(`int${bits}, norm_topk_prob ${normTopK}${shared ? ', shared expert' : ''}`, async () => {
        const o: QuantOptions = { bits, block: 32 };
        const r = rng(bits + (normTopK ? 1 : shared ? 3 : 2));
        const w = new Map<string, Float32Array>();
        const spec = { architecture: 'Qwen2MoeForCausalLM', hidden: H, experts: E, topK: K, expertWidth: I, normTopK, sharedWidth: shared ? S : 0, expertActivation: 'swiglu' } as ModelSpec;
        const n = layerNames(spec, 0);
        const src: WeightSource = {
          has: (name) => w.has(name),
          read: (name, shape) => {
            if (!w.has(name)) w.set(name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r()));
            return w.get(name)!;
          },
        };
        const tag = `${bits}${normTopK}${shared}`;
        const data = new DataFile(join(tmp, `d${tag}.bin`), `d${tag}.bin`);
        const g = new GraphBuilder(data, 'fp32', o);
        const x = g.input({ name: 'x', elemType: 'float32', dims: ['T', H] });
        const b = g.input({ name: 'b', elemType: 'float32', dims: [E] });
        const block = moeBlock(g, src, spec, n, x, b);
        g.output(block.out, { name: 'y', elemType: 'float32', dims: ['T', H] });
        g.output(block.routing.expertIds, { name: 'ids', elemType: 'int64', dims: ['T', K] });
        g.output(block.routing.expertWeights, { name: 'w', elemType: 'float32', dims: ['T', K] });
        data.close();
        const file = join(tmp, `m${tag}.onnx`);
        writeFileSync(file, g.encode('test'));
        const session = await ort.InferenceSession.create(file, { logSeverityLevel: 3 }); // no warning per defaulted input (onnxSession.ts)
        // what the ops compute with: the dequantised values (the router and the shared-expert gate stay float)
        const dq = (name: string, rows: number, cols: number) => dequantizeRows(quantizeRows(w.get(name)!, rows, cols, o), rows, cols, o);

        const xs = Float32Array.from({ length: T * H }, () => r() * 4);
        const mlp = swigluMlp(H);
        // the shared expert is MatMulNBits: int8 computes with int8 activations (quantLayers.ts accuracyLevel)
        const sharedMlp = accuracyLevel(bits) === 4 ? swigluMlp(H, (v) => int8Activations(v, o.block)) : mlp;
        for (const bias of [new Float32Array(E), Float32Array.from({ length: E }, (_, e) => (e === 1 ? -1e9 : e === 4 ? 1e9 : 0))]) {
          const out = await session.run({ x: new ort.Tensor('float32', xs, [T, H]), b: new ort.Tensor('float32', bias, [E]) });
          const y = out.y.data as Float32Array;
          const ids = out.ids.data as BigInt64Array;
          const gw = out.w.data as Float32Array;
          let max = 0;
          for (let t = 0; t < T; t++) {
            const v = Array.from(xs.subarray(t * H, (t + 1) * H));
            const raw = linear(v, w.get(n.router)!, E, H);
            const sel = topK(raw.map((q, e) => q + bias[e]), K);
            const p = softmax(raw);
            const mass = sel.reduce((s, e) => s + p[e], 0);
            const want = new Array<number>(H).fill(0);
            sel.forEach((e, k) => {
              const weight = p[e] / (normTopK ? mass : 1);
              assert.ok(Math.abs(gw[t * K + k] - weight) < 1e-6);
              assert.equal(Number(ids[t * K + k]), e);
              mlp(v, dq(n.expertGate(e), I, H), dq(n.expertUp(e), I, H), dq(n.expertDown(e), H, I), I).forEach((q, j) => (want[j] += weight * q));
            });
            if (shared) {
              const sg = 1 / (1 + Math.exp(-linear(v, w.get(n.sharedExpertGate)!, 1, H)[0]));
              sharedMlp(v, dq(n.sharedGate, S, H), dq(n.sharedUp, S, H), dq(n.sharedDown, H, S), S).forEach((q, j) => (want[j] += sg * q));
            }
            if (bias[1] !== 0) assert.ok(!sel.includes(1) && sel.includes(4));
            for (let j = 0; j < H; j++) max = Math.max(max, Math.abs(y[t * H + j] - want[j]) / (1 + Math.abs(want[j])));
          }
          assert.ok(max < 1e-5, `max relative |Δ| ${max} (bias ${bias[1] ? 'steered' : '0'})`);
        }
        await session.release();
      });
    }
  }
});
