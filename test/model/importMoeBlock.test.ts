import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelSpec } from '../../server/import/config';
import { DataFile, GraphBuilder } from '../../server/import/graph/builder';
import { moeBlock } from '../../server/import/graph/moeLayer';
import type { WeightSource } from '../../server/import/graph/weights';
import { layerNames } from '../../server/import/tensorNames';
import { softmax, topK } from '../../server/routing/math';
import { rng } from '../support/safetensorsWriter';
import { linear, swigluMlp } from '../support/referenceMlp';

/**
 * One MoE block of the import graph (router, steering, the com.microsoft.MoE op, Qwen2-MoE's shared expert) against a
 * plain JS reference of transformers' arithmetic, with steering: selection from raw + bias, gate weights from the raw
 * logits (renormalised or not). This checks the trick the graph uses for models that do not renormalise (the op's
 * output scaled by the selected probability mass) under disable and force, not just unsteered.
 */
describe('import graph: one MoE block under steering vs a JS reference', function () {
  this.timeout(60000);
  const tmp = mkdtempSync(join(tmpdir(), 'moe-lens-moeblock-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const [T, H, E, K, I, S] = [7, 12, 6, 2, 5, 4];

  for (const [normTopK, shared] of [[true, false], [false, false], [false, true]] as const) {
    it(`norm_topk_prob ${normTopK}${shared ? ', shared expert' : ''}`, async () => {
      const r = rng(normTopK ? 1 : shared ? 3 : 2);
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
      const data = new DataFile(join(tmp, `d${normTopK}${shared}.bin`), `d${normTopK}${shared}.bin`);
      const g = new GraphBuilder(data);
      const x = g.input({ name: 'x', elemType: 'float32', dims: ['T', H] });
      const b = g.input({ name: 'b', elemType: 'float32', dims: [E] });
      const block = moeBlock(g, src, spec, n, x, b);
      g.output(block.out, { name: 'y', elemType: 'float32', dims: ['T', H] });
      g.output(block.routing.expertIds, { name: 'ids', elemType: 'int64', dims: ['T', K] });
      g.output(block.routing.expertWeights, { name: 'w', elemType: 'float32', dims: ['T', K] });
      data.close();
      const file = join(tmp, `m${normTopK}${shared}.onnx`);
      writeFileSync(file, g.encode('test'));
      const session = await ort.InferenceSession.create(file);

      const xs = Float32Array.from({ length: T * H }, () => r() * 4);
      const mlp = swigluMlp(H);
      for (const bias of [new Float32Array(E), Float32Array.from({ length: E }, (_, e) => (e === 1 ? -1e9 : e === 4 ? 1e9 : 0))]) {
        const o = await session.run({ x: new ort.Tensor('float32', xs, [T, H]), b: new ort.Tensor('float32', bias, [E]) });
        const y = o.y.data as Float32Array;
        const ids = o.ids.data as BigInt64Array;
        const gw = o.w.data as Float32Array;
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
            mlp(v, w.get(n.expertGate(e))!, w.get(n.expertUp(e))!, w.get(n.expertDown(e))!, I).forEach((q, j) => (want[j] += weight * q));
          });
          if (shared) {
            const sg = 1 / (1 + Math.exp(-linear(v, w.get(n.sharedExpertGate)!, 1, H)[0]));
            mlp(v, w.get(n.sharedGate)!, w.get(n.sharedUp)!, w.get(n.sharedDown)!, S).forEach((q, j) => (want[j] += sg * q));
          }
          if (bias[1] !== 0) assert.ok(!sel.includes(1) && sel.includes(4));
          for (let j = 0; j < H; j++) max = Math.max(max, Math.abs(y[t * H + j] - want[j]) / (1 + Math.abs(want[j])));
        }
        assert.ok(max < 1e-5, `max relative |Δ| ${max} (bias ${bias[1] ? 'steered' : '0'})`);
      }
      await session.release();
    });
  }
});
