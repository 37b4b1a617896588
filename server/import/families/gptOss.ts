// GptOssForCausalLM (gpt-oss-20b/120b), read as transformers 5.18's models/gpt_oss has it (configuration_gpt_oss.py's
// defaults and __post_init__; modeling_gpt_oss.py):
// - GptOssTopKRouter: logits = x·Wᵀ + b, top-k on the logits, softmax over the k (normTopK; the bias is part of the
//   router logits the hover shows);
// - GptOssExperts: gate_up = x·gate_up_proj[e] + bias with gate/up interleaved (gate = [..., ::2], up = [..., 1::2]),
//   gate.clamp(max=7), up.clamp(±7), (up + 1)·gate·σ(1.702·gate), then ·down_proj[e] + bias: the MoE op's interleaved
//   SwiGLU with activation_alpha 1.702, activation_beta 1, swiglu_limit 7 (graph/moeLayer.ts's probe);
// - GptOssAttention: q/k/v/o with bias (attention_bias, default true), one learned sink logit per head appended to
//   the scores before the softmax and dropped after (eager_attention_forward), sliding_window on the layers
//   layer_types marks "sliding_attention" (masking_utils.sliding_window_overlay: key > query − window);
// - rotary: YaRN from rope_parameters (rope_scaling in 4.x files; the class default when neither is given).
// MXFP4 experts (quantization_config.quant_method "mxfp4") are decoded at import (server/import/mxfp4.ts).
import type { ModelSpec } from '../config';
import { ImportError } from '../errors';
import { excerpt } from '../jsonText';
import { baseShape, everyLayerMoe, routing } from './base';
import { CONFIG, expertCount, fields, type Json } from './fields';
import { defaultOrYarn } from './rope';

/** gpt-oss's expert activation (GptOssExperts.alpha, .limit; the +1 on up is activation_beta) */
export const GPT_OSS_SWIGLU = { alpha: 1.702, beta: 1, limit: 7 };

const DEFAULT_YARN = { rope_type: 'yarn', factor: 32, beta_fast: 32, beta_slow: 1, truncate: false, original_max_position_embeddings: 4096 };

export function gptOssSpec(c: Json): ModelSpec {
  const f = fields(c);
  const q = c.quantization_config as Json | null | undefined;
  if (q != null && (typeof q !== 'object' || q.quant_method !== 'mxfp4')) {
    throw new ImportError(`quantisation ${excerpt(typeof q === 'object' ? q.quant_method : q)} is not supported (gpt-oss: only its MXFP4 experts, decoded at import)`, CONFIG, 'quantization_config.quant_method');
  }
  const { maxPositions, ...s } = baseShape(c, f, { kvHeads: 8, headDim: 64 });
  const { experts, key } = expertCount(c, f);
  const window = f.int('sliding_window', 128);
  const types = c.layer_types ?? Array.from({ length: s.layers }, (_, i) => ((i + 1) % 2 ? 'sliding_attention' : 'full_attention'));
  if (!Array.isArray(types) || types.length !== s.layers || !types.every((t) => t === 'sliding_attention' || t === 'full_attention')) {
    throw new ImportError(`must list "sliding_attention" or "full_attention" for each of the ${s.layers} layers`, CONFIG, 'layer_types');
  }
  if (window < 1) throw new ImportError('must be a positive integer', CONFIG, 'sliding_window');
  const bias = f.bool('attention_bias', true);
  return {
    architecture: 'GptOssForCausalLM',
    ...s,
    eps: f.num('rms_norm_eps', 1e-5),
    ropeTheta: 0, // unused: `rotary` carries the YaRN table
    rotary: defaultOrYarn(c, s.headDim, 'gpt-oss', 150000, DEFAULT_YARN).table,
    contextLength: maxPositions,
    contextReason: 'max_position_embeddings (sliding layers are masked to their window inside the graph)',
    tied: f.bool('tie_word_embeddings', false),
    ...routing(experts, key, f),
    normTopK: true,
    expertWidth: f.int('intermediate_size'),
    ...everyLayerMoe(s.layers),
    qkvBias: bias,
    oBias: bias,
    norm: 'rms',
    expertActivation: 'swiglu',
    routerBias: true,
    expertBiases: true,
    swiglu: GPT_OSS_SWIGLU,
    attentionSinks: true,
    slidingWindow: window,
    slidingLayers: types.flatMap((t, i) => (t === 'sliding_attention' ? [i] : [])),
  };
}
