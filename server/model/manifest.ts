import Ajv from 'ajv';
import schema from '../../schema/moe.schema.json';
import type { DataCheck } from './weightsCheck';
import { jsonErrorPosition, ModelLoadError } from './errors';

/** moe.json, format "moe-lens/1" (schema/moe.schema.json). */
export interface MoeManifest {
  format: 'moe-lens/1';
  name: string;
  layers: number;
  experts: number;
  topK: number;
  vocabSize: number;
  contextLength: number;
  model?: string;
  /** ONNX external-data file of the weights (imported models); hashed for provenance.dataSha256 */
  modelData?: string;
  /** decoder layer index of each router layer (imported models whose dense layers have no router) */
  routerLayers?: number[];
  /** the model expects specialTokens.bos before the text (recorded by the importer; the server does not add it yet) */
  addBos?: boolean;
  router: { function: string; selection?: string; gateWeights?: string; gateWeightsReason?: string; disableBias: number; forceBias: number };
  tokenizer: string;
  specialTokens?: Record<string, string>;
  /**
   * held-out text per domain for the expert labels; `labels`: the labels computed from this model and corpus, shipped
   * with them (server/steering/shippedLabels.ts: used instead of the profiling pass while its key matches)
   */
  profileCorpus?: { dir?: string; domains: Record<string, string>; labels?: string };
  inputs: { inputIds: string; expertBias: string };
  outputs: { logits: string; routerLogits: string; expertIds: string; expertWeights: string; tokenLogprobs?: string; routerEntropy?: string };
  kvCache: { pastKey: string; pastValue: string; presentKey: string; presentValue: string; heads: number; headDim: number; valueDim?: number; layers?: number };
  provenance: Record<string, unknown> & { licence: string; sha256?: string; dataSha256?: string; dataCheck?: DataCheck };
  /** set by `moe-lens import --quant`: block-wise symmetric int8/int4 weights (routers stay float32) */
  quantization?: { bits: 4 | 8; block: number; scheme: string; experts?: string; projections?: string; embeddings?: string; routers?: string; prePacking?: boolean };
}

const validate = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(schema);

/** Parses and validates moe.json text; every failure names the field (JSON pointer) that is wrong. */
export function parseManifest(text: string, file = 'moe.json'): MoeManifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(`not valid JSON${jsonErrorPosition(e)}`, file); // never the text itself: it may not be a manifest
  }
  if (!validate(data)) {
    const err = validate.errors?.[0];
    const field = err ? err.instancePath || '/' : '/';
    const detail = err?.params && 'missingProperty' in err.params ? `missing property "${String(err.params.missingProperty)}"` : err?.message ?? 'invalid';
    throw new ModelLoadError(`does not match the moe-lens/1 schema: ${detail}`, file, field);
  }
  const m = data as unknown as MoeManifest;
  if (m.topK > m.experts) throw new ModelLoadError(`topK (${m.topK}) is larger than experts (${m.experts})`, file, '/topK');
  return m;
}

/** Number of key/value cache layers: kvCache.layers, or one per router layer. */
export const kvLayers = (m: MoeManifest): number => m.kvCache.layers ?? m.layers;

/** An empty cache's shapes (no history; the graph takes past length 0 as "start of sequence"): keys, then values. */
export const emptyCacheDims = (m: MoeManifest): { key: number[]; value: number[] } => ({
  key: [1, m.kvCache.heads, 0, m.kvCache.headDim],
  value: [1, m.kvCache.heads, 0, m.kvCache.valueDim ?? m.kvCache.headDim],
});

/** Tensor name for a layer from a "{layer}" template. */
export const layerName = (template: string, layer: number): string => template.replace('{layer}', String(layer));
