// The fields every decoder-only family reads the same way (sizes, heads, context), for the family parsers here.
import { ImportError } from '../errors';
import { excerpt } from '../jsonText';
import { CONFIG, type Fields, type Json } from './fields';

export interface BaseShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  maxPositions: number;
}

/** kvHeads and headDim default as the family's configuration class has them (null: num_attention_heads / hidden ÷ heads). */
export function baseShape(c: Record<string, unknown>, f: Fields, dflt: { kvHeads: number | null; headDim: number | null }): BaseShape {
  const hidden = f.int('hidden_size');
  const layers = f.int('num_hidden_layers');
  const heads = f.int('num_attention_heads');
  const kvHeads = f.int('num_key_value_heads', dflt.kvHeads ?? heads);
  if (heads === 0 || kvHeads === 0 || heads % kvHeads !== 0) throw new ImportError(`num_attention_heads (${heads}) must be a positive multiple of num_key_value_heads (${kvHeads})`, CONFIG, 'num_key_value_heads');
  const headDim = c.head_dim == null ? (dflt.headDim ?? Math.floor(hidden / heads)) : f.int('head_dim');
  if (headDim % 2 !== 0 || headDim === 0) throw new ImportError(`head_dim ${headDim} must be even and positive for rotary embeddings`, CONFIG, 'head_dim');
  return { hidden, layers, heads, kvHeads, headDim, vocab: f.int('vocab_size'), maxPositions: f.int('max_position_embeddings') };
}

export function routing(experts: number, expertsKey: string, f: Fields): { experts: number; topK: number } {
  const topK = f.int('num_experts_per_tok');
  if (experts < 2) throw new ImportError(`a Mixture-of-Experts model needs at least 2 experts, got ${experts}`, CONFIG, expertsKey);
  if (topK < 1 || topK > experts) throw new ImportError(`must be 1–${experts}`, CONFIG, 'num_experts_per_tok');
  return { experts, topK };
}

/**
 * What the families without dense layers, shared experts, q/k norms or QKV clipping (Granite-MoE, gpt-oss,
 * Phi-3.5-MoE) say alike: every layer is an MoE layer.
 */
export function everyLayerMoe(layers: number): { moeLayers: number[]; denseWidth: 0; sharedWidth: 0; qkNorm: 'none'; clipQkv: null } {
  return { moeLayers: [...Array(layers).keys()], denseWidth: 0, sharedWidth: 0, qkNorm: 'none', clipQkv: null };
}

/** n_routed_experts (what save_pretrained writes), or `alias`, its attribute_map name (GLM-4.5, DeepSeek). */
export function routedExperts(c: Json, f: Fields, alias: string, dflt: number): { experts: number; key: string } {
  if (c.n_routed_experts != null && c[alias] != null && c.n_routed_experts !== c[alias]) {
    throw new ImportError(`n_routed_experts (${excerpt(c.n_routed_experts)}) and ${alias} (${excerpt(c[alias])}) disagree`, CONFIG, 'n_routed_experts');
  }
  const key = c.n_routed_experts == null && c[alias] != null ? alias : 'n_routed_experts';
  return { experts: f.int(key, dflt), key };
}

/**
 * n_group and topk_group of a group-limited router, refused where transformers would fail or choose wrongly.
 * `top2`: a group is scored by the sum of its two best experts (GLM-4.5, DeepSeek-V3), so it needs two of them.
 */
export function expertGroups(f: Fields, experts: number, topK: number, dflt: { groups: number; topkGroup: number }, top2: boolean): { groups: number; topkGroup: number } {
  const groups = f.int('n_group', dflt.groups);
  const topkGroup = f.int('topk_group', dflt.topkGroup);
  if (groups < 1 || experts % groups !== 0) throw new ImportError(`must divide the ${experts} routed experts into equal groups`, CONFIG, 'n_group');
  // groups of one expert fail in transformers' topk(2)
  if (top2 && experts / groups < 2) throw new ImportError(`leaves ${experts / groups} expert per group; the router scores a group by its top 2`, CONFIG, 'n_group');
  if (topkGroup < 1 || topkGroup > groups) throw new ImportError(`must be 1–${groups} (n_group)`, CONFIG, 'topk_group');
  // fewer candidates than k would make transformers pick masked experts at real weights
  if (topK > topkGroup * (experts / groups)) throw new ImportError(`${topK} experts cannot be chosen from ${topkGroup} group(s) of ${experts / groups}`, CONFIG, 'num_experts_per_tok');
  return { groups, topkGroup };
}

/** routed_scaling_factor: the gate weights' multiplier (GLM-4.5, DeepSeek). */
export function routedScaling(f: Fields, dflt: number): number {
  const scaling = f.num('routed_scaling_factor', dflt);
  if (!(scaling > 0)) throw new ImportError(`must be a positive number, got ${scaling}`, CONFIG, 'routed_scaling_factor');
  return scaling;
}

/** The decoder layers from first_k_dense_replace on, which have experts (GLM-4.5, DeepSeek). */
export function moeFrom(f: Fields, layers: number, dflt: number): number[] {
  const denseBelow = f.int('first_k_dense_replace', dflt);
  const moeLayers = [...Array(layers).keys()].filter((l) => l >= denseBelow);
  if (moeLayers.length === 0) throw new ImportError(`leaves no decoder layer with experts (the model has ${layers})`, CONFIG, 'first_k_dense_replace');
  return moeLayers;
}
