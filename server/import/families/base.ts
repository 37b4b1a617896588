// The fields every decoder-only family reads the same way (sizes, heads, context), for the family parsers here.
import { ImportError } from '../errors';
import { CONFIG, type Fields } from './fields';

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
