// DeepseekV3ForCausalLM (DeepSeek-V3/R1, Kimi-K2, Moonlight) and DeepseekV2ForCausalLM (DeepSeek-V2, V2-Lite), read
// as transformers 5.18's models/deepseek_v3 and models/deepseek_v2 have them:
// - configuration_deepseek_v{2,3}.py's defaults; __post_init__ sets head_dim = qk_rope_head_dim (the rotary width,
//   whatever config.json says) and num_key_value_heads = num_attention_heads when null;
// - DeepseekV{2,3}Attention: multi-head latent attention (graph/mlaAttention.ts), its q_a_layernorm and
//   kv_a_layernorm built with the class's eps 1e-6 (not rms_norm_eps), scaling qk_head_dim^-½ · mscale² when
//   rope_parameters has mscale_all_dim (yarn_apply_mscale); V3 rotates interleaved pairs when rope_interleave
//   (default true), V2 always (apply_rotary_emb's complex product);
// - DeepseekV3TopkRouter: GLM-4.5's (graph/groupedSigmoidRouter.ts; topk_method, e.g. the hub's "noaux_tc", is not
//   read by transformers); DeepseekV2TopkRouter: softmax, "greedy" or "group_limited_greedy", weights × the scaling
//   factor and never renormalised (norm_topk_prob is not read);
// - DeepseekV{2,3}MoE: routed experts plus an ungated shared MLP of moe_intermediate_size · n_shared_experts; the
//   layers below first_k_dense_replace dense (intermediate_size). moe_layer_freq is not read by transformers either.
// The multi-token-prediction layer (model.layers.<num_hidden_layers>, which transformers ignores on load) is left
// unused; FP8 checkpoints (quantization_config) are refused.
import type { Architecture, ModelSpec } from '../config';
import { ImportError } from '../errors';
import { excerpt } from '../jsonText';
import { baseShape, expertGroups, moeFrom, routedExperts, routedScaling, routing } from './base';
import { CONFIG, fields, type Fields, type Json } from './fields';
import { defaultOrYarn } from './rope';

/** The class defaults that differ between the two (configuration_deepseek_v3.py, configuration_deepseek_v2.py). */
const DEFAULTS = {
  DeepseekV3ForCausalLM: { experts: 256, alias: 'num_local_experts', shared: 1, expertWidth: 2048, denseWidth: 18432, denseBelow: 3, scaling: 2.5, groups: 8, topkGroup: 4 },
  DeepseekV2ForCausalLM: { experts: 64, alias: 'num_experts', shared: 2, expertWidth: 1407, denseWidth: 11008, denseBelow: 0, scaling: 1, groups: 1, topkGroup: 1 },
} as const;

export const deepseekV3Spec = (c: Json): ModelSpec => deepseekSpec(c, 'DeepseekV3ForCausalLM');
export const deepseekV2Spec = (c: Json): ModelSpec => deepseekSpec(c, 'DeepseekV2ForCausalLM');

function deepseekSpec(c: Json, arch: 'DeepseekV3ForCausalLM' | 'DeepseekV2ForCausalLM'): ModelSpec {
  const v3 = arch === 'DeepseekV3ForCausalLM';
  const d = DEFAULTS[arch];
  const f = fields(c);
  if (c.quantization_config != null) {
    const q = c.quantization_config as Json;
    const method = typeof q === 'object' && q !== null ? q.quant_method : q;
    throw new ImportError(`quantised checkpoints (${excerpt(method)}) are not supported: DeepSeek's FP8 weights (weight_scale_inv) must be converted to bf16 first (the importer reads F32, F16 and BF16 weights only)`, CONFIG, 'quantization_config');
  }
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ImportError(`hidden_act ${excerpt(act)} is not supported (SwiGLU experts use silu)`, CONFIG, 'hidden_act');
  if (!v3 && f.bool('mlp_bias', false)) throw new ImportError('MLP biases are not supported', CONFIG, 'mlp_bias');
  // head_dim is qk_rope_head_dim whatever config.json says (__post_init__); baseShape must not read it
  const { maxPositions, ...s } = baseShape({ ...c, head_dim: null }, f, { kvHeads: null, headDim: 2 });
  // repeat_kv would repeat keys that kv_b_proj already made per head: transformers fails unless they are equal
  if (s.kvHeads !== s.heads) throw new ImportError(`must equal num_attention_heads (${s.heads}): latent attention expands keys and values to every head`, CONFIG, 'num_key_value_heads');
  const mla = latent(c, f, v3);
  const { experts, key } = routedExperts(c, f, d.alias, d.experts);
  const r = routing(experts, key, f);
  const scaling = routedScaling(f, d.scaling);
  const router = v3 ? { groupedSigmoid: { ...expertGroups(f, experts, r.topK, d, true), scaling } } : { groupedSoftmax: { ...v2Groups(c, f, experts, r.topK), scaling } };
  const moeLayers = moeFrom(f, s.layers, d.denseBelow);
  const expertWidth = f.int('moe_intermediate_size', d.expertWidth);
  const rope = defaultOrYarn(c, mla.ropeDim, v3 ? 'DeepSeek-V3' : 'DeepSeek-V2', 10000);
  let attentionScale = Math.fround((mla.nopeDim + mla.ropeDim) ** -0.5);
  if (rope.yarn?.mscaleAllDim) {
    // yarn_apply_mscale: scaling · mscale², mscale = 0.1 · mscale_all_dim · ln(factor) + 1 (1 when factor ≤ 1)
    const m = rope.yarn.factor <= 1 ? 1 : 0.1 * rope.yarn.mscaleAllDim * Math.log(rope.yarn.factor) + 1;
    attentionScale = (mla.nopeDim + mla.ropeDim) ** -0.5 * m * m;
  }
  const bias = f.bool('attention_bias', false);
  return {
    architecture: arch as Architecture,
    ...s,
    headDim: mla.nopeDim + mla.ropeDim,
    eps: f.num('rms_norm_eps', 1e-6),
    ropeTheta: rope.theta, // the graph reads `rotary`, the table made from it
    rotary: rope.table,
    rotaryDim: mla.ropeDim,
    attentionScale,
    contextLength: maxPositions,
    contextReason: 'max_position_embeddings',
    tied: f.bool('tie_word_embeddings', false),
    ...r,
    normTopK: v3 ? f.bool('norm_topk_prob', true) : false,
    expertWidth,
    moeLayers,
    denseWidth: moeLayers.length < s.layers ? f.int('intermediate_size', d.denseWidth) : 0,
    sharedWidth: expertWidth * f.int('n_shared_experts', d.shared),
    ungatedShared: true,
    // attention_bias: q_a_proj, kv_a_proj_with_mqa and o_proj (q_proj, q_b_proj and kv_b_proj never have one)
    qkvBias: bias,
    oBias: bias,
    qkNorm: 'none',
    clipQkv: null,
    norm: 'rms',
    expertActivation: 'swiglu',
    mla,
    ...router,
  };
}

function latent(c: Json, f: Fields, v3: boolean): NonNullable<ModelSpec['mla']> {
  const qLoraRank = c.q_lora_rank === null ? null : f.int('q_lora_rank', 1536);
  const kvLoraRank = f.int('kv_lora_rank', 512);
  const nopeDim = f.int('qk_nope_head_dim', 128);
  const ropeDim = f.int('qk_rope_head_dim', 64);
  const valueDim = f.int('v_head_dim', 128);
  for (const [k, v] of [['q_lora_rank', qLoraRank ?? 1], ['kv_lora_rank', kvLoraRank], ['qk_nope_head_dim', nopeDim], ['v_head_dim', valueDim]] as const) {
    if (v < 1) throw new ImportError('must be at least 1', CONFIG, k);
  }
  if (ropeDim < 2 || ropeDim % 2 !== 0) throw new ImportError(`must be even and at least 2 for rotary embeddings, got ${ropeDim}`, CONFIG, 'qk_rope_head_dim');
  return { qLoraRank, kvLoraRank, nopeDim, ropeDim, valueDim, interleave: v3 ? f.bool('rope_interleave', true) : true };
}

/** DeepseekV2TopkRouter's topk_method: "greedy" (every expert a candidate) or "group_limited_greedy". */
function v2Groups(c: Json, f: Fields, experts: number, topK: number): { groups: number; topkGroup: number } {
  const method = c.topk_method ?? 'greedy';
  if (method === 'greedy') return { groups: 1, topkGroup: 1 };
  if (method !== 'group_limited_greedy') throw new ImportError(`${excerpt(method)} is not supported (DeepSeek-V2: "greedy" or "group_limited_greedy")`, CONFIG, 'topk_method');
  if (c.n_group == null || c.topk_group == null) throw new ImportError('is needed by topk_method "group_limited_greedy"', CONFIG, c.n_group == null ? 'n_group' : 'topk_group');
  return expertGroups(f, experts, topK, { groups: 1, topkGroup: 1 }, false);
}
