// The machine's float32 GEMM rate as onnxruntime's CPU MatMul reaches it (the kernel our float graphs and QMoE's
// dequantised experts run through), for the bench's physical floor: FLOPs per token ÷ this rate is how fast a
// forward could be on this machine if nothing but the matrix products cost anything.
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';

const F = onnx.TensorProto.DataType.FLOAT;
const input = (name: string, dims: number[]): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

/** GFLOP/s of [m, k] × [k, n] (median of `reps` runs after one warm-up), with the server's session options. */
export async function gemmGflops(m = 2048, k = 2048, n = 2048, reps = 5): Promise<number> {
  const model = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'gemm', node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'] }], input: [input('a', [m, k]), input('b', [k, n])], output: [input('c', [m, n])] },
  }).finish();
  const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', enableCpuMemArena: false });
  try {
    const fill = (len: number) => Float32Array.from({ length: len }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const feeds = { a: new ort.Tensor('float32', fill(m * k), [m, k]), b: new ort.Tensor('float32', fill(k * n), [k, n]) };
    await s.run(feeds);
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await s.run(feeds);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return (2 * m * k * n) / (ms[Math.floor(reps / 2)] / 1000) / 1e9;
  } finally {
    await s.release();
  }
}
