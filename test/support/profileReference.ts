// The profiling pass as it was before the fast one (server/prune/profile.ts and corpusProfile.ts),
// kept as the reference the fast pass must equal (test/model/profileParity.test.ts) and as the "before" of
// bench/prune.ts: the model's graph with every output kept, and per MoE layer and per rank k of the top-k one more
// MoE node whose router input keeps only the k-th selected expert (weight exactly 1), so ‖y_k‖ of every rank comes
// from an op of its own; the routing accumulated per token in plain JS loops (test/support/offloadReference.ts: LRU).
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { addImportance, emptyImportance, type ImportanceCounts } from '../../common/expertImportance';
import { layerMajorIndex } from '../../common/routingLayout';
import { encodePrefix } from '../../server/analysis/analyzer';
import { emptyCacheDims, kvLayers, layerName } from '../../server/model/manifest';
import { MoeTokenizer } from '../../server/model/tokenizer';
import { tensorBytes, type MoeGraph } from '../../server/prune/moeGraph';

const NORMS = 'expert_output_norms';

export function referenceProfilingGraph(g: MoeGraph): Uint8Array {
  const model = onnx.ModelProto.decode(onnx.ModelProto.encode(g.model).finish());
  const graph = model.graph!;
  graph.initializer = graph.initializer!.map((t) => (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL ? t : { name: t.name, dims: t.dims, dataType: t.dataType, rawData: tensorBytes(g.dir, t) }));
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
    const masked = node.input![1];
    const floor = producer.get(masked)!.input![0];
    const attrs = node.attribute!.map((a) => (a.name === 'k' ? int('k', 1) : a));
    const norms: string[] = [];
    for (let k = 0; k < K; k++) {
      const selK = op('Slice', [layer.sel, constI([k]), constI([k + 1]), constI([1])]);
      const route = op('ScatterElements', [floor, selK, op('GatherElements', [masked, selK], [int('axis', 1)])], [int('axis', 1)]);
      const y = op('MoE', node.input!.map((v, i) => (i === 1 ? route : v)), attrs, 'com.microsoft');
      norms.push(op('ReduceL2', [y], [ints('axes', [1]), int('keepdims', 1)]));
    }
    perLayer.push(op('Unsqueeze', [op('Concat', norms, [int('axis', 1)]), constI([0])]));
  }
  graph.node!.push({ opType: 'Identity', input: [op('Concat', perLayer, [int('axis', 0)])], output: [NORMS], name: NORMS });
  const keep = new Set([g.manifest.outputs.expertIds, g.manifest.outputs.expertWeights, g.manifest.outputs.routerLogits]);
  graph.output = graph.output!.filter((o) => keep.has(o.name!));
  graph.output!.push({ name: NORMS, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: g.manifest.layers }, { dimParam: 'T' }, { dimValue: K }] } } } });
  return onnx.ModelProto.encode(model).finish();
}

export interface ReferenceProfile {
  counts: ImportanceCounts;
  gram: Float64Array[];
  /** [text][layer][token] = the selected experts */
  sequences: number[][][][];
}

/** The reference pass over texts; an addBos model runs BOS first in every window and its rows are dropped. */
export async function referenceProfileCorpus(g: MoeGraph, texts: readonly string[], maxTokens: number): Promise<ReferenceProfile> {
  const m = g.manifest;
  const { layers: L, experts: E, topK: K, contextLength: C } = m;
  const counts = emptyImportance(L, E);
  const gram = Array.from({ length: L }, () => new Float64Array(E * E));
  const sequences = texts.map(() => Array.from({ length: L }, (): number[][] => []));
  const session = await ort.InferenceSession.create(referenceProfilingGraph(g), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  try {
    const tokenizer = await MoeTokenizer.fromFile(join(g.dir, m.tokenizer), m.tokenizer);
    const bos = m.addBos ? [tokenizer.tokenId(m.specialTokens?.bos ?? '')!] : [];
    const fetch = [m.outputs.expertIds, m.outputs.expertWeights, m.outputs.routerLogits, NORMS];
    for (let i = 0; i < texts.length; i++) {
      const ids = encodePrefix({ tokenizer }, texts[i], maxTokens).ids.slice(0, maxTokens);
      for (let from = 0; from < ids.length; from += C) {
        const win = ids.slice(from, from + C);
        const run = [...bos, ...win];
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
        // per layer, the rows after BOS
        const rows = <A extends ArrayLike<number>>(a: A, w: number): A | Float64Array => (bos.length ? Float64Array.from({ length: L * T * w }, (_, i) => a[(Math.floor(i / (T * w)) * (T + 1) + 1) * w + (i % (T * w))]) : a);
        const ids32 = Int32Array.from(out[m.outputs.expertIds].data as BigInt64Array, Number);
        const sel = bos.length ? Int32Array.from(rows(ids32, K)) : ids32;
        const z = rows(out[m.outputs.routerLogits].data as Float32Array, E);
        addImportance(counts, T, K, sel, rows(out[m.outputs.expertWeights].data as Float32Array, K), rows(out[NORMS].data as Float32Array, K));
        for (let l = 0; l < L; l++) {
          const G = gram[l];
          for (let t = 0; t < T; t++) {
            const zt = z.subarray(layerMajorIndex(T, l, t, E), layerMajorIndex(T, l, t + 1, E));
            for (let a = 0; a < E; a++) for (let b = 0; b < E; b++) G[a * E + b] += zt[a] * zt[b];
            sequences[i][l].push(Array.from(sel.subarray(layerMajorIndex(T, l, t, K), layerMajorIndex(T, l, t + 1, K))));
          }
        }
      }
    }
  } finally {
    await session.release();
  }
  return { counts, gram, sequences };
}

