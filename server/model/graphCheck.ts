// Does an ONNX graph match its manifest? Checked at load so that a wrong model directory fails with a sentence naming
// the manifest field, instead of a shape error deep inside the first analysis. Pure over plain metadata objects.
import { ModelLoadError } from './errors';
import { kvLayers, layerName, type MoeManifest } from './manifest';

/** What onnxruntime reports about one graph input or output (InferenceSession.inputMetadata / outputMetadata). */
export interface GraphValue {
  name: string;
  isTensor: boolean;
  type?: string;
  /** numbers for fixed dimensions, strings for symbolic ones ("T", "P") */
  shape?: readonly (number | string)[];
}

export interface GraphSignature {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly GraphValue[];
  outputMetadata?: readonly GraphValue[];
}

/** Each fixed dimension the manifest implies, as [dim index, expected size, manifest field]. */
type Expect = [number, number, string][];

/** Names first (every tensor the manifest names exists), then element types and the fixed dimensions of each. */
export function checkGraphSignature(g: GraphSignature, m: MoeManifest, file: string): void {
  const inputs = new Set(g.inputNames);
  const outputs = new Set(g.outputNames);
  const need = (set: Set<string>, name: string, field: string, kind: string) => {
    if (!set.has(name)) throw new ModelLoadError(`graph has no ${kind} "${name}" (it has: ${[...set].join(', ')})`, file, field);
  };
  need(inputs, m.inputs.inputIds, '/inputs/inputIds', 'input');
  need(inputs, m.inputs.expertBias, '/inputs/expertBias', 'input');
  for (const [k, v] of Object.entries(m.outputs)) need(outputs, v, `/outputs/${k}`, 'output');
  const kv = m.kvCache;
  for (let l = 0; l < kvLayers(m); l++) {
    need(inputs, layerName(kv.pastKey, l), '/kvCache/pastKey', 'input');
    need(inputs, layerName(kv.pastValue, l), '/kvCache/pastValue', 'input');
    need(outputs, layerName(kv.presentKey, l), '/kvCache/presentKey', 'output');
    need(outputs, layerName(kv.presentValue, l), '/kvCache/presentValue', 'output');
  }

  const meta = new Map<string, GraphValue>([...(g.inputMetadata ?? []), ...(g.outputMetadata ?? [])].map((v) => [v.name, v]));
  const check = (name: string, field: string, type: string, rank: number, expect: Expect) => {
    const v = meta.get(name);
    if (!v || !v.isTensor) return; // older runtimes give no metadata: the probe run at load still checks shapes
    if (v.type && v.type !== type) throw new ModelLoadError(`graph tensor "${name}" is ${v.type}, expected ${type}`, file, field);
    const shape = v.shape;
    if (!shape || shape.length === 0) return;
    if (shape.length !== rank) throw new ModelLoadError(`graph tensor "${name}" has rank ${shape.length} ([${shape.join(', ')}]), expected ${rank}`, file, field);
    for (const [i, size, f] of expect) {
      const d = shape[i];
      if (typeof d === 'number' && d !== size) {
        throw new ModelLoadError(`graph tensor "${name}" has shape [${shape.join(', ')}]: dimension ${i} is ${d} but moe.json says ${size}`, file, f);
      }
    }
  };
  check(m.inputs.inputIds, '/inputs/inputIds', 'int64', 2, [[0, 1, '/inputs/inputIds']]);
  const bias = meta.get(m.inputs.expertBias);
  if (bias?.isTensor && bias.shape && bias.shape.length === 2) {
    const [l, e] = bias.shape;
    if ((typeof l === 'number' && l !== m.layers) || (typeof e === 'number' && e !== m.experts)) {
      throw new ModelLoadError(`graph input "${m.inputs.expertBias}" has shape [${bias.shape.join(', ')}] but moe.json says [${m.layers}, ${m.experts}] (layers, experts)`, file, '/inputs/expertBias');
    }
  }
  check(m.inputs.expertBias, '/inputs/expertBias', 'float32', 2, []);
  check(m.outputs.logits, '/outputs/logits', 'float32', 3, [[2, m.vocabSize, '/vocabSize']]);
  check(m.outputs.routerLogits, '/outputs/routerLogits', 'float32', 3, [[0, m.layers, '/layers'], [2, m.experts, '/experts']]);
  check(m.outputs.expertIds, '/outputs/expertIds', 'int64', 3, [[0, m.layers, '/layers'], [2, m.topK, '/topK']]);
  check(m.outputs.expertWeights, '/outputs/expertWeights', 'float32', 3, [[0, m.layers, '/layers'], [2, m.topK, '/topK']]);
  if (m.outputs.tokenLogprobs !== undefined) check(m.outputs.tokenLogprobs, '/outputs/tokenLogprobs', 'float32', 2, [[0, 1, '/outputs/tokenLogprobs']]);
  if (m.outputs.routerEntropy !== undefined) check(m.outputs.routerEntropy, '/outputs/routerEntropy', 'float32', 2, [[0, m.layers, '/layers']]);
  const keyShape: Expect = [[0, 1, '/kvCache'], [1, kv.heads, '/kvCache/heads'], [3, kv.headDim, '/kvCache/headDim']];
  const valueShape: Expect = [[0, 1, '/kvCache'], [1, kv.heads, '/kvCache/heads'], [3, kv.valueDim ?? kv.headDim, kv.valueDim === undefined ? '/kvCache/headDim' : '/kvCache/valueDim']];
  for (let l = 0; l < kvLayers(m); l++) {
    for (const [t, f, shape] of [[kv.pastKey, '/kvCache/pastKey', keyShape], [kv.pastValue, '/kvCache/pastValue', valueShape], [kv.presentKey, '/kvCache/presentKey', keyShape], [kv.presentValue, '/kvCache/presentValue', valueShape]] as const) {
      check(layerName(t, l), f, 'float32', 4, shape);
    }
  }
}

/**
 * The dimensions of one probe run on a single token. Symbolic output dimensions (router logits, expert ids) are
 * only known after a run, and topK in particular is nowhere else in the graph's signature.
 */
export function checkProbeDims(dims: Record<string, readonly number[]>, m: MoeManifest, file: string): void {
  const want: [string, number[], string[]][] = [
    [m.outputs.logits, [1, 1, m.vocabSize], ['', '', '/vocabSize']],
    [m.outputs.routerLogits, [m.layers, 1, m.experts], ['/layers', '', '/experts']],
    [m.outputs.expertIds, [m.layers, 1, m.topK], ['/layers', '', '/topK']],
    [m.outputs.expertWeights, [m.layers, 1, m.topK], ['/layers', '', '/topK']],
    ...(m.outputs.tokenLogprobs !== undefined ? [[m.outputs.tokenLogprobs, [1, 1], ['', '/outputs/tokenLogprobs']] as [string, number[], string[]]] : []),
  ];
  for (const [name, shape, fields] of want) {
    const got = dims[name] ?? [];
    const wrongRank = got.length !== shape.length;
    const bad = wrongRank ? -1 : shape.findIndex((size, i) => got[i] !== size);
    if (wrongRank || bad >= 0) {
      const field = (bad >= 0 && fields[bad]) || `/outputs`;
      throw new ModelLoadError(`a one-token run gave "${name}" the shape [${got.join(', ')}], expected [${shape.join(', ')}] from moe.json`, file, field);
    }
  }
}
