// The importer's graph layout (server/import/graph/moeLayer.ts) as pruning, merging and profiling see it: per router
// layer one com.microsoft.MoE node, its expert weights fc1 [E, ·, H] and fc2 [E, H, I], the router Gemm [E, H] that
// feeds it, and the TopK selection. Every model directory MoE Lens writes has that layout (imported checkpoints and the
// embedded model, both built by server/import/graph).
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { parseManifest, type MoeManifest } from '../model/manifest';

export class PruneError extends Error {}

export interface MoeLayerGraph {
  node: onnx.INodeProto;
  /** initializer names (the stored tensors, fp16 ones before their Cast) */
  fc1: string;
  fc2: string;
  router: string;
  routerBias?: string;
  /** the TopK indices [T, K] the op's router input was built from */
  sel: string;
}

export interface MoeGraph {
  dir: string;
  manifest: MoeManifest;
  model: onnx.ModelProto;
  layers: MoeLayerGraph[];
  initializers: Map<string, onnx.ITensorProto>;
}

export function readMoeGraph(dir: string): MoeGraph {
  if (!existsSync(join(dir, 'moe.json'))) throw new PruneError(`${dir}: no moe.json (not a model directory)`);
  const manifest = parseManifest(readFileSync(join(dir, 'moe.json'), 'utf8'));
  const model = onnx.ModelProto.decode(readFileSync(join(dir, manifest.model ?? 'model.onnx')));
  const graph = model.graph!;
  const initializers = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const producer = new Map<string, onnx.INodeProto>();
  for (const n of graph.node!) for (const o of n.output ?? []) producer.set(o, n);
  const stored = (value: string): string => {
    if (initializers.has(value)) return value;
    const cast = producer.get(value);
    if (cast?.opType === 'Cast' && initializers.has(cast.input![0])) return cast.input![0];
    throw new PruneError(`${dir}: the graph has no weight for ${value}`);
  };
  const layers: MoeLayerGraph[] = [];
  for (const node of graph.node!) {
    if (node.opType !== 'MoE' || node.domain !== 'com.microsoft') continue;
    const [, masked, fc1, , fc2] = node.input!;
    const base = fc1.replace(/\.fc1(_interleaved)?$/, '');
    const gemm = graph.node!.find((n) => n.opType === 'Gemm' && n.input![1] === base);
    const scatter = producer.get(masked);
    if (!gemm || scatter?.opType !== 'ScatterElements') throw new PruneError(`${dir}: MoE node ${node.name} is not laid out as moe-lens import builds it (router Gemm ${base}, ScatterElements of the selection)`);
    layers.push({ node, fc1: stored(fc1), fc2: stored(fc2), router: stored(base), ...(gemm.input![2] ? { routerBias: stored(gemm.input![2]) } : {}), sel: scatter.input![1] });
  }
  if (layers.length !== manifest.layers) throw new PruneError(`${dir}: the graph has ${layers.length} com.microsoft.MoE nodes, moe.json says ${manifest.layers} layers`);
  return { dir, manifest, model, layers, initializers };
}

/** Keeps the nodes the graph's outputs need, in order; drops the initializers and inputs nothing reads then. */
export function keepNeededNodes(g: onnx.IGraphProto): void {
  const need = new Set((g.output ?? []).map((o) => o.name!));
  const keep: onnx.INodeProto[] = [];
  for (const n of [...(g.node ?? [])].reverse()) {
    if (!(n.output ?? []).some((o) => need.has(o))) continue;
    keep.push(n);
    for (const i of n.input ?? []) if (i) need.add(i);
  }
  g.node = keep.reverse();
  g.initializer = (g.initializer ?? []).filter((t) => need.has(t.name!));
  g.input = (g.input ?? []).filter((i) => need.has(i.name!));
}

/** Bytes per element of the float types weights are stored in. */
export function elementBytes(t: onnx.ITensorProto): number {
  if (t.dataType === onnx.TensorProto.DataType.FLOAT) return 4;
  if (t.dataType === onnx.TensorProto.DataType.FLOAT16) return 2;
  throw new PruneError(`tensor ${t.name} has data type ${t.dataType}; only float32 and float16 weights are handled`);
}

/** A tensor's bytes: inline, or read from its external-data file (offset, length) beside the graph. */
export function tensorBytes(dir: string, t: onnx.ITensorProto): Uint8Array {
  if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return t.rawData ?? new Uint8Array(0);
  const kv = new Map((t.externalData ?? []).map((e) => [e.key!, e.value!]));
  const fd = openSync(join(dir, kv.get('location')!), 'r');
  try {
    const length = Number(kv.get('length'));
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) done += readSync(fd, out, done, length - done, Number(kv.get('offset') ?? 0) + done);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Bytes of one expert's weights (fc1 + fc2 rows of one expert, as stored): what offloading moves per miss. */
export function expertBytes(g: MoeGraph): number {
  const per = (name: string) => {
    const t = g.initializers.get(name)!;
    return (t.dims!.slice(1).reduce((a, d) => a * Number(d), 1)) * elementBytes(t);
  };
  return per(g.layers[0].fc1) + per(g.layers[0].fc2);
}

