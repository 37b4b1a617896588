// Two rewrites of a model's ONNX graph for the benchmark, written next to it so that an imported model's variants share
// its external weights file (model.onnx.data): no second copy of the weights on disk, and the very same weights.
// - bare: input_ids → logits only. expert_bias becomes a zero constant, the KV-cache inputs empty constants, every
//   other output is dropped and the nodes only they needed are pruned (router entropy, token log-probabilities, the
//   stacking of routing outputs); what remains is the model's own forward pass.
// - dense: each com.microsoft.MoE node replaced by a dense mixture: every expert runs on every token (two batched
//   MatMuls over the stacked weights [E, 2I, H] and [E, H, I]) and the outputs are mixed by the op's own routing
//   weights, softmax over the router input it was given (−1e9 outside the selected experts → weight 0). Same outputs,
//   E/k times the expert FLOPs: what an export without the sparse op has to do.
import { readFileSync, writeFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import { keepNeededNodes } from '../server/prune/moeGraph';

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

interface Io {
  inputIds: string;
  expertBias: string;
  logits: string;
  layers: number;
  experts: number;
  /** past_key.{l} / past_value.{l} names and their [1, heads, 0, headDim] shape */
  pasts: string[];
  heads: number;
  headDim: number;
}

const f32 = (name: string, dims: number[], values: number[]): onnx.ITensorProto => ({ name, dims, dataType: T.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
const i64 = (name: string, dims: number[], values: number[]): onnx.ITensorProto => ({ name, dims, dataType: T.INT64, rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer) });

export function writeBareGraph(src: string, dst: string, io: Io): void {
  const m = onnx.ModelProto.decode(readFileSync(src));
  const g = m.graph!;
  g.output = (g.output ?? []).filter((o) => o.name === io.logits);
  const consts = new Set([io.expertBias, ...io.pasts]);
  g.input = (g.input ?? []).filter((i) => !consts.has(i.name!));
  g.initializer!.push(f32(io.expertBias, [io.layers, io.experts], new Array(io.layers * io.experts).fill(0)));
  for (const p of io.pasts) g.initializer!.push({ name: p, dims: [1, io.heads, 0, io.headDim], dataType: T.FLOAT, rawData: new Uint8Array(0) });
  keepNeededNodes(g);
  writeFileSync(dst, onnx.ModelProto.encode(m).finish());
}

export function writeDenseGraph(src: string, dst: string): number {
  const m = onnx.ModelProto.decode(readFileSync(src));
  const g = m.graph!;
  const dims = new Map((g.initializer ?? []).map((t) => [t.name!, (t.dims ?? []).map(Number)]));
  const nodes: onnx.INodeProto[] = [];
  let replaced = 0;
  const ints = (name: string, v: number[], d = [v.length]) => {
    g.initializer!.push(i64(name, d, v));
    return name;
  };
  for (const n of g.node ?? []) {
    if (n.opType !== 'MoE' || n.domain !== 'com.microsoft') {
      nodes.push(n);
      continue;
    }
    const attr = (k: string) => (n.attribute ?? []).find((a) => a.name === k);
    const act = new TextDecoder().decode(attr('activation_type')?.s ?? new Uint8Array());
    if (act !== 'swiglu' || Number(attr('normalize_routing_weights')?.i ?? 0) !== 1) throw new Error(`dense rewrite: MoE node ${n.name} has activation ${act}; only interleaved SwiGLU with normalised routing is rewritten`);
    const [x, router, fc1, , fc2] = n.input!;
    const [E, I2] = dims.get(fc1)!;
    const p = `dense${replaced++}`;
    const node = (opType: string, input: string[], out: string, attribute: onnx.IAttributeProto[] = []) => {
      nodes.push({ opType, domain: '', input, output: [out], name: out, attribute });
      return out;
    };
    const axis = (v: number): onnx.IAttributeProto => ({ name: 'axis', type: A.INT, i: v });
    const w = node('Softmax', [router], `${p}/w`, [axis(-1)]); // [T, E]
    const xt = node('Transpose', [x], `${p}/xt`); // [H, T]
    const h1 = node('MatMul', [fc1, xt], `${p}/h1`); // [E, 2I, T], rows interleaved: 2i gate, 2i+1 up
    const h1r = node('Reshape', [h1, ints(`${p}/shape`, [E, I2 / 2, 2, -1])], `${p}/h1r`);
    const gate = node('Gather', [h1r, ints(`${p}/zero`, [0], [])], `${p}/gate`, [axis(2)]); // [E, I, T]
    const up = node('Gather', [h1r, ints(`${p}/one`, [1], [])], `${p}/up`, [axis(2)]);
    const a = node('Mul', [node('Mul', [gate, node('Sigmoid', [gate], `${p}/sig`)], `${p}/silu`), up], `${p}/act`);
    const h2 = node('MatMul', [fc2, a], `${p}/h2`); // [E, H, T]
    const wt = node('Unsqueeze', [node('Transpose', [w], `${p}/wt0`), ints(`${p}/ax1`, [1])], `${p}/wt`); // [E, 1, T]
    const y = node('ReduceSum', [node('Mul', [h2, wt], `${p}/weighted`), ints(`${p}/ax0`, [0])], `${p}/y`, [{ name: 'keepdims', type: A.INT, i: 0 }]);
    node('Transpose', [y], n.output![0]); // [T, H]
  }
  g.node = nodes;
  writeFileSync(dst, onnx.ModelProto.encode(m).finish());
  return replaced;
}
