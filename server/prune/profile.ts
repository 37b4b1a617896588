// The profiling pass for REAP (docs/PRUNING.md): the model's graph plus, per MoE layer and per rank k of the top-k,
// one more com.microsoft.MoE node with the same weights whose router input keeps only the k-th selected expert
// (−1e9 elsewhere, so its softmax weight is exactly 1): its output is that expert's own output on the layer's hidden
// states, exactly as the fused op computes it, and ReduceL2 gives ‖expert output‖ per token. The fused op alone
// hides the per-expert outputs; this costs K more expert evaluations per layer and nothing else.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { layerMajorIndex } from '../../common/routingLayout';
import { CancelledError, encodePrefix } from '../analysis/analyzer';
import { emptyCacheDims, kvLayers, layerName } from '../model/manifest';
import { MoeTokenizer } from '../model/tokenizer';
import { PruneError, tensorBytes, type MoeGraph } from './moeGraph';

export const NORMS_OUTPUT = 'expert_output_norms';

/** One window of routing, layer-major: ids/weights/norms[(l*T+t)*K+k], routerLogits[(l*T+t)*E+e]. */
export interface ProfiledWindow {
  text: number;
  tokens: number;
  ids: Int32Array;
  weights: Float32Array;
  norms: Float32Array;
  routerLogits: Float32Array;
}

/** Inline weights beyond this are refused: a protobuf message cannot exceed 2 GB. */
const INLINE_LIMIT = 1.5e9;

/** The profiling graph, weights inline: the model with the [L, T, K] expert-output norms as one more output. */
export function profilingGraph(g: MoeGraph): Uint8Array {
  const model = onnx.ModelProto.decode(onnx.ModelProto.encode(g.model).finish());
  const graph = model.graph!;
  let inline = 0;
  graph.initializer = graph.initializer!.map((t) => {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return t;
    const rawData = tensorBytes(g.dir, t);
    inline += rawData.byteLength;
    if (inline > INLINE_LIMIT) throw new PruneError(`${g.dir}: the weights are over ${INLINE_LIMIT / 1e9} GB; the profiling pass holds them in one in-memory graph`);
    return { name: t.name, dims: t.dims, dataType: t.dataType, rawData };
  });
  const K = g.manifest.topK;
  let n = 0;
  const op = (opType: string, input: string[], attribute: onnx.IAttributeProto[] = [], domain = ''): string => {
    const out = `profile_${opType}_${n++}`;
    graph.node!.push({ opType, input, output: [out], name: out, domain, attribute });
    return out;
  };
  const constI = (values: number[]): string => {
    const name = `profile_c_${n++}`;
    graph.initializer!.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer) });
    return name;
  };
  const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
  const int = (name: string, v: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
  const producer = new Map<string, onnx.INodeProto>();
  for (const node of graph.node!) for (const o of node.output ?? []) producer.set(o, node);
  const perLayer: string[] = [];
  for (const layer of g.layers) {
    const node = graph.node!.find((x) => x.name === layer.node.name)!;
    const [x, masked, fc1, , fc2] = node.input!;
    const floor = producer.get(masked)!.input![0];
    const attrs = node.attribute!.map((a) => (a.name === 'k' ? int('k', 1) : a));
    const norms: string[] = [];
    for (let k = 0; k < K; k++) {
      const selK = op('Slice', [layer.sel, constI([k]), constI([k + 1]), constI([1])]);
      const route = op('ScatterElements', [floor, selK, op('GatherElements', [masked, selK], [int('axis', 1)])], [int('axis', 1)]);
      const y = op('MoE', [x, route, fc1, '', fc2], attrs, 'com.microsoft');
      norms.push(op('ReduceL2', [y], [ints('axes', [1]), int('keepdims', 1)]));
    }
    perLayer.push(op('Unsqueeze', [op('Concat', norms, [int('axis', 1)]), constI([0])]));
  }
  const out = op('Concat', perLayer, [int('axis', 0)]);
  graph.node!.push({ opType: 'Identity', input: [out], output: [NORMS_OUTPUT], name: NORMS_OUTPUT });
  // Only the routing outputs stay: onnxruntime then drops the nodes nothing reads (the lm_head, the KV cache copies).
  const keep = new Set([g.manifest.outputs.expertIds, g.manifest.outputs.expertWeights, g.manifest.outputs.routerLogits]);
  graph.output = graph.output!.filter((o) => keep.has(o.name!));
  graph.output!.push({ name: NORMS_OUTPUT, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: g.manifest.layers }, { dimParam: 'T' }, { dimValue: K }] } } } });
  return onnx.ModelProto.encode(model).finish();
}

export interface ProfileOptions {
  maxTokens: number;
  isCancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs the profiling graph over each text (unsteered; windows of contextLength tokens, as analyzeText cuts them, with
 * the same tokenisation) and hands each window's routing and expert-output norms to `onWindow`.
 */
export async function profileTexts(g: MoeGraph, texts: readonly string[], onWindow: (w: ProfiledWindow) => void, opts: ProfileOptions): Promise<void> {
  const m = g.manifest;
  let session: ort.InferenceSession | undefined;
  try {
    // onnxruntime-node reads external data only from beside a graph file and refuses links out of its folder: the
    // profiling graph is built in memory with its weights inline instead (nothing written to disk).
    session = await ort.InferenceSession.create(profilingGraph(g), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    const tokenizer = await MoeTokenizer.fromFile(join(g.dir, m.tokenizer), m.tokenizer);
    const bos = m.addBos ? tokenizer.tokenId(m.specialTokens?.bos ?? '') : undefined;
    const { layers: L, experts: E, topK: K, contextLength: C } = m;
    const fetch = [m.outputs.expertIds, m.outputs.expertWeights, m.outputs.routerLogits, NORMS_OUTPUT];
    for (let i = 0; i < texts.length; i++) {
      opts.onProgress?.(i, texts.length);
      const ids = encodePrefix({ tokenizer }, texts[i], opts.maxTokens).ids.slice(0, opts.maxTokens);
      for (let from = 0; from < ids.length; from += C) {
        if (opts.isCancelled?.()) throw new CancelledError();
        const win = ids.slice(from, from + C);
        const drop = bos === undefined ? 0 : 1;
        const run = drop ? [bos!, ...win] : win;
        const feeds: Record<string, ort.Tensor> = {
          [m.inputs.inputIds]: new ort.Tensor('int64', BigInt64Array.from(run, BigInt), [1, run.length]),
          [m.inputs.expertBias]: new ort.Tensor('float32', new Float32Array(L * E), [L, E]),
        };
        const dims = emptyCacheDims(m);
        for (let l = 0; l < kvLayers(m); l++) {
          feeds[layerName(m.kvCache.pastKey, l)] = new ort.Tensor('float32', new Float32Array(0), dims.key);
          feeds[layerName(m.kvCache.pastValue, l)] = new ort.Tensor('float32', new Float32Array(0), dims.value);
        }
        const out = await session.run(feeds, fetch);
        const T = win.length;
        const rows = <A extends Float32Array | BigInt64Array>(a: A, w: number): A => {
          if (!drop) return a;
          const r = new (a.constructor as new (n: number) => A)(L * T * w);
          for (let l = 0; l < L; l++) r.set(a.subarray(layerMajorIndex(T + 1, l, 1, w), layerMajorIndex(T + 1, l + 1, 0, w)) as never, l * T * w);
          return r;
        };
        const ids64 = rows(out[m.outputs.expertIds].data as BigInt64Array, K);
        onWindow({
          text: i,
          tokens: T,
          ids: Int32Array.from(ids64, Number),
          weights: rows(out[m.outputs.expertWeights].data as Float32Array, K),
          norms: rows(out[NORMS_OUTPUT].data as Float32Array, K),
          routerLogits: rows(out[m.outputs.routerLogits].data as Float32Array, E),
        });
      }
    }
    opts.onProgress?.(texts.length, texts.length);
  } finally {
    await session?.release();
  }
}
