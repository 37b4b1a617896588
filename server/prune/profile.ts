// The profiling pass for REAP (docs/PRUNING.md): the model's graph reduced to what routing needs, plus ‖expert output‖
// of every selected expert per token. The fused com.microsoft.MoE op hides the per-expert outputs y_k; it returns
// out = Σ_k w_k·y_k with its own weights w (softmax of its router input at the selected experts, renormalised as its
// attribute says). Per MoE layer, with the ranks sorted by w (largest first):
// - ranks 1…K−1: one more MoE node each, on the same inputs and weights, whose router input keeps only that rank's
//   expert (−1e9 elsewhere, so its weight is exactly 1): its output is y_k exactly as the fused op computes it;
// - rank 0: ‖out − Σ_{k≥1} w_k·y_k‖ / w_0, from the layer's own output: one expert evaluation per token and layer
//   fewer than evaluating every rank alone (test/support/profileReference.ts, the pass this replaced). w_0 ≥ 1/K, so
//   the difference is a few float roundings of ‖out‖: REAP's sums agree within 1e-5 relative with that pass
//   (test/model/profileParity.test.ts; 1.6e-8 measured on the embedded model, bench/prune.ts).
// Everything else the graph computes for the editor (the lm_head and log-probabilities, the KV cache copies, router
// entropy) is dropped, and the unsteered bias and the empty caches are constants: a window feeds only its token ids.
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { layerMajorIndex } from '../../common/routingLayout';
import { CancelledError, encodePrefix } from '../analysis/analyzer';
import { emptyCacheDims, kvLayers, layerName, type MoeManifest } from '../model/manifest';
import { MoeTokenizer } from '../model/tokenizer';
import { keepNeededNodes, PruneError, tensorBytes, type MoeGraph } from './moeGraph';
import { ProfileWorkers, type Outputs } from './profileWorkers';

export const NORMS_OUTPUT = 'expert_output_norms';

/** One window of routing, layer-major: ids/weights/norms[(l*T+t)*K+k], routerLogits[(l*T+t)*E+e]. */
export interface ProfiledWindow {
  text: number;
  tokens: number;
  ids: Int32Array;
  weights: Float32Array;
  /** null when the pass was asked without norms (ProfileOptions.norms false) */
  norms: Float32Array | null;
  routerLogits: Float32Array;
}

/** Inline weights beyond this are refused: a protobuf message cannot exceed 2 GB. */
const INLINE_LIMIT = 1.5e9;

interface Builder {
  op(opType: string, input: string[], attribute?: onnx.IAttributeProto[], domain?: string): string;
  opN(opType: string, input: string[], outputs: number, attribute?: onnx.IAttributeProto[], domain?: string): string[];
  constI(values: number[]): string;
}
const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const int = (name: string, v: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
const attrInt = (node: onnx.INodeProto, name: string): number | undefined => {
  const a = node.attribute?.find((x) => x.name === name);
  return a ? Number(a.i) : undefined;
};

/** The copy's weights read into the graph (onnxruntime-node reads external data only beside a graph file). */
function inlineWeights(g: MoeGraph, graph: onnx.IGraphProto): void {
  let inline = 0;
  graph.initializer = graph.initializer!.map((t) => {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return t;
    const rawData = tensorBytes(g.dir, t);
    inline += rawData.byteLength;
    if (inline > INLINE_LIMIT) throw new PruneError(`${g.dir}: the weights are over ${INLINE_LIMIT / 1e9} GB; the profiling pass holds them in one in-memory graph`);
    return { name: t.name, dims: t.dims, dataType: t.dataType, rawData };
  });
}

/** expert_bias = 0 (unsteered) and the empty past caches as constants: inputs no window has to feed. */
function constantInputs(m: MoeManifest, graph: onnx.IGraphProto): void {
  const F = onnx.TensorProto.DataType.FLOAT;
  const consts: onnx.ITensorProto[] = [{ name: m.inputs.expertBias, dims: [m.layers, m.experts], dataType: F, rawData: new Uint8Array(4 * m.layers * m.experts) }];
  const dims = emptyCacheDims(m);
  for (let l = 0; l < kvLayers(m); l++) {
    consts.push({ name: layerName(m.kvCache.pastKey, l), dims: dims.key, dataType: F, rawData: new Uint8Array(0) });
    consts.push({ name: layerName(m.kvCache.pastValue, l), dims: dims.value, dataType: F, rawData: new Uint8Array(0) });
  }
  const names = new Set(consts.map((c) => c.name!));
  graph.input = graph.input!.filter((i) => !names.has(i.name!));
  graph.initializer!.push(...consts);
}

/** [T, K] ‖y_k‖ of one MoE node, in the rank order of `sel` (the header's construction). */
function layerNorms(b: Builder, node: onnx.INodeProto, floor: string, sel: string, K: number): string {
  const { op, constI } = b;
  const masked = node.input![1];
  const single = node.attribute!.map((a) => (a.name === 'k' ? int('k', 1) : a));
  const column = (v: string, k: number) => op('Slice', [v, constI([k]), constI([k + 1]), constI([1])]); // [T, 1]
  // y of the expert each token has in `pick` [T, 1]: the op with only that expert routed (weight exactly 1)
  const alone = (pick: string) => {
    const route = op('ScatterElements', [floor, pick, op('GatherElements', [masked, pick], [int('axis', 1)])], [int('axis', 1)]);
    return op('MoE', node.input!.map((v, i) => (i === 1 ? route : v)), single, 'com.microsoft'); // its biases too (gpt-oss)
  };
  const norm = (y: string) => op('ReduceL2', [y], [ints('axes', [1]), int('keepdims', 1)]);
  // The sparse mixer weighs inside the op (no weights to subtract with): every rank is evaluated alone.
  if (attrInt(node, 'use_sparse_mixer') === 1) return op('Concat', Array.from({ length: K }, (_, k) => norm(alone(column(sel, k)))), [int('axis', 1)]);
  // the op's weights: softmax of its router input at the selected experts, renormalised when the op renormalises
  let w = op('GatherElements', [op('Softmax', [masked], [int('axis', -1)]), sel], [int('axis', 1)]);
  if (attrInt(node, 'normalize_routing_weights') === 1) w = op('Div', [w, op('ReduceSum', [w, constI([1])], [int('keepdims', 1)])]);
  // the ranks by weight, largest first: order[t, j] = the column of sel with the j-th largest weight
  const [wRanked, order] = b.opN('TopK', [w, constI([K])], 2, [int('axis', 1), int('largest', 1), int('sorted', 1)]);
  const ranked = op('GatherElements', [sel, order], [int('axis', 1)]);
  const norms: string[] = [];
  let rest = node.output![0];
  for (let k = 1; k < K; k++) {
    const y = alone(column(ranked, k));
    norms[k] = norm(y);
    rest = op('Sub', [rest, op('Mul', [y, column(wRanked, k)])]);
  }
  norms[0] = op('Div', [norm(rest), column(wRanked, 0)]);
  const byWeight = K === 1 ? norms[0] : op('Concat', norms, [int('axis', 1)]);
  // back into sel's rank order (order is a permutation of each row, so every value is overwritten)
  return op('ScatterElements', [byWeight, order, byWeight], [int('axis', 1)]);
}

/**
 * The profiling graph, weights inline, input_ids alone in: the routing outputs and, unless `norms` is false (no REAP
 * asked: frequency, weight, merging and offloading need only the routing), the [L, T, K] expert-output norms.
 */
export function profilingGraph(g: MoeGraph, norms = true): Uint8Array {
  const model = onnx.ModelProto.decode(onnx.ModelProto.encode(g.model).finish());
  const graph = model.graph!;
  const m = g.manifest;
  inlineWeights(g, graph);
  constantInputs(m, graph);
  let n = 0;
  const b: Builder = {
    opN: (opType, input, outputs, attribute = [], domain = '') => {
      const name = `profile_${opType}_${n++}`;
      const output = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? name : `${name}_${i}`));
      graph.node!.push({ opType, input, output, name, domain, attribute });
      return output;
    },
    op: (opType, input, attribute = [], domain = '') => b.opN(opType, input, 1, attribute, domain)[0],
    constI: (values) => {
      const name = `profile_c_${n++}`;
      graph.initializer!.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer) });
      return name;
    },
  };
  const keep = new Set([m.outputs.expertIds, m.outputs.expertWeights, m.outputs.routerLogits]);
  graph.output = graph.output!.filter((o) => keep.has(o.name!));
  if (norms) {
    const producer = new Map<string, onnx.INodeProto>();
    for (const node of graph.node!) for (const o of node.output ?? []) producer.set(o, node);
    const perLayer = g.layers.map((layer) => {
      const node = graph.node!.find((x) => x.name === layer.node.name)!;
      const floor = producer.get(node.input![1])!.input![0];
      return b.op('Unsqueeze', [layerNorms(b, node, floor, layer.sel, m.topK), b.constI([0])]);
    });
    graph.node!.push({ opType: 'Identity', input: [b.op('Concat', perLayer, [int('axis', 0)])], output: [NORMS_OUTPUT], name: NORMS_OUTPUT });
    graph.output!.push({ name: NORMS_OUTPUT, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: m.layers }, { dimParam: 'T' }, { dimValue: m.topK }] } } } });
  }
  keepNeededNodes(graph);
  return onnx.ModelProto.encode(model).finish();
}

export interface ProfileOptions {
  maxTokens: number;
  /** the expert-output norms REAP needs (default true); without them each layer runs no extra expert evaluation */
  norms?: boolean;
  isCancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs the profiling graph over each text (unsteered; windows of contextLength tokens, as analyzeText cuts them, with
 * the same tokenisation) and hands each window's routing and expert-output norms to `onWindow`.
 */
export async function profileTexts(g: MoeGraph, texts: readonly string[], onWindow: (w: ProfiledWindow) => void, opts: ProfileOptions): Promise<void> {
  const m = g.manifest;
  const C = m.contextLength;
  const norms = opts.norms !== false;
  const fetch = [m.outputs.expertIds, m.outputs.expertWeights, m.outputs.routerLogits, ...(norms ? [NORMS_OUTPUT] : [])];
  // onnxruntime-node reads external data only from beside a graph file and refuses links out of its folder: the
  // profiling graph is built in memory with its weights inline instead (nothing written to disk).
  const workers = await ProfileWorkers.start(profilingGraph(g, norms), m.inputs.inputIds, fetch);
  try {
    const tokenizer = await MoeTokenizer.fromFile(join(g.dir, m.tokenizer), m.tokenizer);
    const bos = m.addBos ? tokenizer.tokenId(m.specialTokens?.bos ?? '') : undefined;
    const drop = bos === undefined ? 0 : 1;
    // Windows in flight, oldest first: two per worker, so none waits while the main thread tokenises or accumulates.
    const inFlight: { text: number; tokens: number; out: Promise<Outputs> }[] = [];
    const deliver = async () => {
      const w = inFlight.shift()!;
      onWindow(windowOf(m, w.text, w.tokens, drop, await w.out));
    };
    for (let i = 0; i < texts.length; i++) {
      opts.onProgress?.(i, texts.length);
      const ids = encodePrefix({ tokenizer }, texts[i], opts.maxTokens).ids.slice(0, opts.maxTokens);
      for (let from = 0; from < ids.length; from += C) {
        if (opts.isCancelled?.()) throw new CancelledError();
        const T = Math.min(C, ids.length - from);
        const run = new BigInt64Array(T + drop);
        if (drop) run[0] = BigInt(bos!);
        for (let t = 0; t < T; t++) run[drop + t] = BigInt(ids[from + t]);
        const out = workers.run(run);
        out.catch(() => undefined); // a window left in flight by a cancel or an error is rejected at release
        inFlight.push({ text: i, tokens: T, out });
        if (inFlight.length >= 2 * workers.size) await deliver();
      }
    }
    while (inFlight.length) await deliver();
    opts.onProgress?.(texts.length, texts.length);
  } finally {
    await workers.release();
  }
}

/** A window's outputs as ProfiledWindow; an addBos model's BOS row of every layer dropped (callers see their tokens). */
function windowOf(m: MoeManifest, text: number, T: number, drop: number, out: Outputs): ProfiledWindow {
  const { layers: L, experts: E, topK: K } = m;
  const rows = <A extends Float32Array | BigInt64Array>(a: A, w: number): A => {
    if (!drop) return a;
    const r = new (a.constructor as new (n: number) => A)(L * T * w);
    for (let l = 0; l < L; l++) r.set(a.subarray(layerMajorIndex(T + 1, l, 1, w), layerMajorIndex(T + 1, l + 1, 0, w)) as never, l * T * w);
    return r;
  };
  const ids64 = rows(out[m.outputs.expertIds] as BigInt64Array, K);
  const ids = new Int32Array(ids64.length);
  for (let j = 0; j < ids64.length; j++) ids[j] = Number(ids64[j]);
  return {
    text,
    tokens: T,
    ids,
    weights: rows(out[m.outputs.expertWeights] as Float32Array, K),
    norms: out[NORMS_OUTPUT] ? rows(out[NORMS_OUTPUT] as Float32Array, K) : null,
    routerLogits: rows(out[m.outputs.routerLogits] as Float32Array, E),
  };
}
