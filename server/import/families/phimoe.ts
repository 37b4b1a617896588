// PhimoeForCausalLM (Phi-3.5-MoE), read as transformers 5.18's models/phimoe has it: configuration_phimoe.py's
// defaults; LayerNorm with bias (eps = rms_norm_eps) for the input, post-attention and final norms; q/k/v/o bias
// (attention_bias); lm_head bias (lm_head_bias); Mixtral-style experts (block_sparse_moe.experts.N.w1/w2/w3 in the hub);
// the sparsemixer router (graph/sparsemixer.ts, router_jitter_noise is its jitter_eps, top-2 only); LongRoPE
// (graph/longrope.ts) or the default rotary.
import type { ModelSpec } from '../config';
import { ImportError } from '../errors';
import { excerpt } from '../jsonText';
import { longropeTable } from '../graph/longrope';
import { baseShape, everyLayerMoe, routing } from './base';
import { CONFIG, expertCount, fields, type Json } from './fields';

export function phimoeSpec(c: Json): ModelSpec {
  const f = fields(c);
  if (c.quantization_config != null) throw new ImportError('quantised checkpoints are not supported (the importer reads F32, F16 and BF16 weights only)', CONFIG, 'quantization_config');
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ImportError(`hidden_act ${excerpt(act)} is not supported (SwiGLU experts use silu)`, CONFIG, 'hidden_act');
  const { maxPositions, ...s } = baseShape(c, f, { kvHeads: 8, headDim: null });
  const { experts, key } = expertCount(c, f);
  const r = routing(experts, key, f);
  if (r.topK !== 2) throw new ImportError(`Phi-MoE's sparsemixer routes to exactly 2 experts, got ${r.topK}`, CONFIG, 'num_experts_per_tok');
  const bias = f.bool('attention_bias', false);
  const rope = rotary(c, s.headDim, maxPositions);
  // PhimoeModel masks every layer to sliding_window when it is set (Phi-3.5-MoE's is 131072 = its context): as for
  // Mixtral, a shorter window becomes the analysed context, so the window never cuts attention
  const window = c.sliding_window == null ? null : f.int('sliding_window');
  if (window !== null && window < 1) throw new ImportError('must be a positive integer or null', CONFIG, 'sliding_window');
  if (window !== null && window < rope.contextLength) {
    rope.contextLength = window;
    rope.reason = 'sliding_window: documents are analysed in windows no longer than the attention window, so the window never cuts attention';
  }
  return {
    architecture: 'PhimoeForCausalLM',
    ...s,
    eps: f.num('rms_norm_eps', 1e-5),
    ropeTheta: rope.theta,
    rotary: rope.table,
    contextLength: rope.contextLength,
    contextReason: rope.reason,
    tied: f.bool('tie_word_embeddings', false),
    ...r,
    normTopK: false,
    expertWidth: f.int('intermediate_size'),
    ...everyLayerMoe(s.layers),
    qkvBias: bias,
    oBias: bias,
    norm: 'layer',
    expertActivation: 'swiglu',
    sparsemixerJitter: f.num('router_jitter_noise', 0.01),
    lmHeadBias: f.bool('lm_head_bias', false),
  };
}

function rotary(c: Json, headDim: number, maxPositions: number): { theta: number; table?: ModelSpec['rotary']; contextLength: number; reason: string } {
  const where = c.rope_parameters != null ? 'rope_parameters' : 'rope_scaling';
  const p = (c.rope_parameters ?? c.rope_scaling ?? {}) as Json;
  if (typeof p !== 'object' || p === null) throw new ImportError('must be an object', CONFIG, where);
  const theta = p.rope_theta ?? c.rope_theta ?? 1e6;
  if (typeof theta !== 'number' || !(theta > 0)) throw new ImportError(`must be a positive number, got ${excerpt(theta)}`, CONFIG, `${where}.rope_theta`);
  const type = p.rope_type ?? p.type ?? 'default';
  if (p.partial_rotary_factor != null && p.partial_rotary_factor !== 1) throw new ImportError('partial rotary embeddings are not supported', CONFIG, `${where}.partial_rotary_factor`);
  if (type === 'default') return { theta, contextLength: maxPositions, reason: 'max_position_embeddings' };
  if (type !== 'longrope') throw new ImportError(`RoPE variant ${excerpt(type)} is not supported for Phi-MoE (default or longrope)`, CONFIG, `${where}.rope_type`);
  const factors = (k: string): number[] => {
    const v = p[k];
    if (!Array.isArray(v) || v.length !== headDim / 2 || !v.every((x) => typeof x === 'number' && x > 0)) throw new ImportError(`must list ${headDim / 2} positive numbers (head_dim / 2)`, CONFIG, `${where}.${k}`);
    return v as number[];
  };
  const num = (k: string): number => {
    const v = p[k];
    if (typeof v !== 'number' || !(v > 0)) throw new ImportError(`must be a positive number, got ${excerpt(v)}`, CONFIG, `${where}.${k}`);
    return v;
  };
  factors('long_factor'); // validated; transformers 5.18's Phimoe never applies it (graph/longrope.ts)
  const original = p.original_max_position_embeddings ?? c.original_max_position_embeddings;
  if (!Number.isInteger(original) || (original as number) < 1) throw new ImportError('must be a positive integer', CONFIG, `${where}.original_max_position_embeddings`);
  const short = num('short_mscale');
  const long = num('long_mscale');
  const table = longropeTable(theta, factors('short_factor'), short, headDim);
  if (short === long || maxPositions <= (original as number)) return { theta, table, contextLength: maxPositions, reason: 'max_position_embeddings' };
  return { theta, table, contextLength: original as number, reason: 'rope_parameters: short_mscale and long_mscale differ, so documents are analysed in windows no longer than original_max_position_embeddings, where transformers uses short_mscale' };
}
