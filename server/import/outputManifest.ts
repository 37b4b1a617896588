// moe.json for an imported checkpoint: shapes, the router convention with its steering semantics, tensor names, and
// provenance (source architecture, sha256 of config.json and of the weight files, importer version, the hashes of
// model.onnx and model.onnx.data that the server checks at load).
import { familyRouterDescription } from './families/routerDescription';
import type { MoeManifest } from '../model/manifest';
import type { ModelSpec } from './config';
import { IO, kvCacheShape } from './graph/model';

export const IMPORTER_VERSION = '1';

export interface Hashes {
  config: string;
  weights: string;
  model: string;
  data: string;
}

export function importedManifest(name: string, spec: ModelSpec, tokens: { bos?: string; eos?: string; addBos: boolean }, dtype: string, h: Hashes): MoeManifest {
  const renorm = spec.normTopK;
  const special: Record<string, string> = {};
  if (tokens.bos) special.bos = tokens.bos;
  if (tokens.eos) special.endOfText = tokens.eos;
  return {
    format: 'moe-lens/1',
    name,
    layers: spec.moeLayers.length,
    experts: spec.experts,
    topK: spec.topK,
    vocabSize: spec.vocab,
    contextLength: spec.contextLength - (tokens.addBos ? 1 : 0), // the BOS token takes one position
    model: 'model.onnx',
    modelData: 'model.onnx.data',
    routerLayers: spec.moeLayers,
    router: {
      function: renorm ? 'softmax-topk-renormalized' : 'softmax-topk',
      selection: 'topk(router_logits + expert_bias)',
      gateWeights: renorm
        ? 'softmax over all experts in float32, the selected probabilities renormalised to sum 1 (transformers: norm_topk_prob / Mixtral)'
        : 'softmax over all experts in float32, the selected probabilities as they are (transformers: norm_topk_prob false)',
      gateWeightsReason:
        'The bias steers selection only: a disabled expert is never selected; a forced expert is selected and gets the weight its raw router logit earns; bias 0 gives the unsteered model bit for bit. Router layer l is decoder layer routerLayers[l]: layers without experts have no router.',
      disableBias: -1e9,
      forceBias: 1e9,
      ...familyRouterDescription(spec),
    },
    tokenizer: 'tokenizer.json',
    ...(Object.keys(special).length ? { specialTokens: special } : {}),
    ...(tokens.addBos ? { addBos: true } : {}),
    inputs: { inputIds: IO.inputIds, expertBias: IO.expertBias },
    outputs: {
      logits: IO.logits,
      routerLogits: IO.routerLogits,
      expertIds: IO.expertIds,
      expertWeights: IO.expertWeights,
      tokenLogprobs: IO.tokenLogprobs,
      routerEntropy: IO.routerEntropy,
    },
    kvCache: {
      pastKey: IO.pastKey,
      pastValue: IO.pastValue,
      presentKey: IO.presentKey,
      presentValue: IO.presentValue,
      ...cacheDims(spec),
      layers: spec.layers,
    },
    provenance: {
      licence: 'that of the source checkpoint (see its model card): the importer changes the layout of the weights, not their licence',
      source: { architecture: spec.architecture, configSha256: h.config, weightsSha256: h.weights, contextLength: spec.contextReason },
      importer: { tool: 'moe-lens import', version: IMPORTER_VERSION, dtype },
      sha256: h.model,
      dataSha256: h.data,
    },
  };
}

/** moe.json's cache shape: valueDim only where it differs from headDim (DeepSeek's latent cache). */
function cacheDims(spec: ModelSpec): { heads: number; headDim: number; valueDim?: number } {
  const kv = kvCacheShape(spec);
  return { heads: kv.heads, headDim: kv.keyDim, ...(kv.valueDim !== kv.keyDim ? { valueDim: kv.valueDim } : {}) };
}
