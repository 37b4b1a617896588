// Glm4MoeForCausalLM (GLM-4.5, GLM-4.5-Air), read as transformers 5.18's models/glm4_moe has it:
// configuration_glm4_moe.py's defaults (n_routed_experts, which attribute_map also calls num_local_experts;
// partial_rotary_factor 0.5 when config.json names none: Glm4MoeConfig.__post_init__); modeling_glm4_moe.py's
// Glm4MoeDecoderLayer (a dense Glm4MoeMLP of intermediate_size below first_k_dense_replace, Glm4MoeMoE from there on),
// Glm4MoeAttention (q/k/v bias = attention_bias, o_proj without bias, per-head q_norm/k_norm when use_qk_norm, rotary
// on the first int(head_dim · partial_rotary_factor) channels of each head: apply_rotary_pos_emb), Glm4MoeTopkRouter
// (graph/groupedSigmoidRouter.ts) and Glm4MoeMoE (routed experts plus an ungated shared MLP of moe_intermediate_size ·
// n_shared_experts). The hub's tensors: mlp.gate.weight, mlp.gate.e_score_correction_bias (float32),
// mlp.experts.N.{gate,up,down}_proj, mlp.shared_experts.*; the multi-token-prediction layer (model.layers.<N>, which
// transformers ignores on load) is left unused.
import type { ModelSpec } from '../config';
import { ImportError } from '../errors';
import { excerpt } from '../jsonText';
import { baseShape, expertGroups, moeFrom, routedExperts, routedScaling, routing } from './base';
import { CONFIG, fields, type Json } from './fields';

export function glm4MoeSpec(c: Json): ModelSpec {
  const f = fields(c);
  if (c.quantization_config != null) throw new ImportError('quantised checkpoints are not supported (the importer reads F32, F16 and BF16 weights only)', CONFIG, 'quantization_config');
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ImportError(`hidden_act ${excerpt(act)} is not supported (SwiGLU experts use silu)`, CONFIG, 'hidden_act');
  const { maxPositions, ...s } = baseShape(c, f, { kvHeads: 8, headDim: null });
  const { experts, key } = routedExperts(c, f, 'num_local_experts', 128);
  const r = routing(experts, key, f);
  const { groups, topkGroup } = expertGroups(f, experts, r.topK, { groups: 1, topkGroup: 1 }, true);
  const scaling = routedScaling(f, 1);
  const moeLayers = moeFrom(f, s.layers, 1);
  const shared = f.int('n_shared_experts', 1);
  const expertWidth = f.int('moe_intermediate_size', 1408);
  const rope = rotary(c, s.headDim);
  return {
    architecture: 'Glm4MoeForCausalLM',
    ...s,
    eps: f.num('rms_norm_eps', 1e-5),
    ropeTheta: rope.theta,
    rotaryDim: rope.dim,
    contextLength: maxPositions,
    contextReason: 'max_position_embeddings',
    tied: f.bool('tie_word_embeddings', false),
    ...r,
    normTopK: f.bool('norm_topk_prob', true),
    expertWidth,
    moeLayers,
    denseWidth: moeLayers.length < s.layers ? f.int('intermediate_size', 10944) : 0,
    sharedWidth: expertWidth * shared,
    ungatedShared: true,
    qkvBias: f.bool('attention_bias', false),
    oBias: false,
    qkNorm: f.bool('use_qk_norm', false) ? 'head' : 'none',
    clipQkv: null,
    norm: 'rms',
    expertActivation: 'swiglu',
    groupedSigmoid: { groups, topkGroup, scaling },
  };
}

/**
 * The default rotary on int(head_dim · partial_rotary_factor) channels (Glm4MoeRotaryEmbedding.
 * compute_default_rope_parameters): the factor from rope_parameters, else the top level, else 0.5; θ from
 * rope_parameters.rope_theta or rope_theta (10000 by default).
 */
function rotary(c: Json, headDim: number): { theta: number; dim: number } {
  const where = c.rope_parameters != null ? 'rope_parameters' : 'rope_scaling';
  const p = (c.rope_parameters ?? c.rope_scaling ?? {}) as Json;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new ImportError('must be an object', CONFIG, where);
  const type = p.rope_type ?? p.type ?? 'default';
  if (type !== 'default') throw new ImportError(`RoPE variant ${excerpt(type)} is not supported for GLM-4.5 (only the default rotary embedding)`, CONFIG, `${where}.rope_type`);
  const theta = p.rope_theta ?? c.rope_theta ?? 10000;
  if (typeof theta !== 'number' || !(theta > 0)) throw new ImportError(`must be a positive number, got ${excerpt(theta)}`, CONFIG, p.rope_theta != null ? `${where}.rope_theta` : 'rope_theta');
  const factorKey = p.partial_rotary_factor != null ? `${where}.partial_rotary_factor` : 'partial_rotary_factor';
  const factor = p.partial_rotary_factor ?? c.partial_rotary_factor ?? 0.5;
  if (typeof factor !== 'number' || !(factor > 0 && factor <= 1)) throw new ImportError(`must be a number in (0, 1], got ${excerpt(factor)}`, CONFIG, factorKey);
  const dim = Math.floor(headDim * factor); // int() in transformers
  // an odd width would give transformers one frequency more than half of it (torch.arange(0, dim, 2))
  if (dim < 2 || dim % 2 !== 0) throw new ImportError(`head_dim ${headDim} × ${factor} = ${dim} rotary channels; they must be even and at least 2`, CONFIG, factorKey);
  return { theta, dim };
}
