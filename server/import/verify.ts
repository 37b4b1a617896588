// The last check before OUT_DIR appears: onnxruntime loads the new graph, its signature matches the manifest, and a
// one-token run gives the shapes moe.json promises (the same checks ModelSession.load makes, without the tokenizer,
// whose support is the server's business).
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { checkGraphSignature, checkProbeDims } from '../model/graphCheck';
import { kvLayers, layerName, type MoeManifest } from '../model/manifest';

export async function verifyModel(dir: string, m: MoeManifest): Promise<void> {
  const session = await ort.InferenceSession.create(join(dir, m.model ?? 'model.onnx'), { executionProviders: ['cpu'], enableCpuMemArena: false });
  try {
    checkGraphSignature(session, m, 'model.onnx');
    const kv = m.kvCache;
    const feeds: Record<string, ort.Tensor> = {
      [m.inputs.inputIds]: new ort.Tensor('int64', BigInt64Array.from([0n]), [1, 1]),
      [m.inputs.expertBias]: new ort.Tensor('float32', new Float32Array(m.layers * m.experts), [m.layers, m.experts]),
    };
    for (let l = 0; l < kvLayers(m); l++) {
      feeds[layerName(kv.pastKey, l)] = new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.headDim]);
      feeds[layerName(kv.pastValue, l)] = new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.headDim]);
    }
    const out = await session.run(feeds);
    const dims: Record<string, readonly number[]> = {};
    for (const name of Object.values(m.outputs)) if (out[name]) dims[name] = out[name].dims;
    checkProbeDims(dims, m, 'model.onnx');
  } finally {
    await session.release();
  }
}
