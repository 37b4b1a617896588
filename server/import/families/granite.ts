// GraniteMoeForCausalLM (IBM Granite 3.x MoE), read as transformers 5.18's models/granitemoe has it:
// configuration_granitemoe.py's defaults, and modeling_granitemoe.py's four multipliers: inputs_embeds ·
// embedding_multiplier (GraniteMoeModel.forward), residual + block · residual_multiplier after attention and after the
// MoE block (GraniteMoeDecoderLayer), attention scale = attention_multiplier instead of head_dim^-½
// (GraniteMoeAttention.scaling), logits / logits_scaling (GraniteMoeForCausalLM.forward). Router: GraniteMoeTopKRouter,
// top-k on the raw logits and softmax over the k (= renormalised top-k of the full softmax: normTopK). Experts fused
// in the hub as block_sparse_moe.input_linear [E, 2I, H] (gate rows, then up rows) and output_linear [E, H, I].
import type { ModelSpec } from '../config';
import { ropeTheta } from '../config';
import { ImportError } from '../errors';
import { excerpt } from '../jsonText';
import { baseShape, everyLayerMoe, routing } from './base';
import { CONFIG, expertCount, fields, type Json } from './fields';

export function graniteSpec(c: Json): ModelSpec {
  const f = fields(c);
  if (c.quantization_config != null) throw new ImportError('quantised checkpoints are not supported (the importer reads F32, F16 and BF16 weights only)', CONFIG, 'quantization_config');
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ImportError(`hidden_act ${excerpt(act)} is not supported (SwiGLU experts use silu)`, CONFIG, 'hidden_act');
  const { maxPositions, ...s } = baseShape(c, f, { kvHeads: null, headDim: null });
  const { experts, key } = expertCount(c, f);
  const bias = f.bool('attention_bias', false);
  return {
    architecture: 'GraniteMoeForCausalLM',
    ...s,
    eps: f.num('rms_norm_eps', 1e-6),
    ropeTheta: ropeTheta(c, 10000),
    contextLength: maxPositions,
    contextReason: 'max_position_embeddings',
    tied: f.bool('tie_word_embeddings', false),
    ...routing(experts, key, f),
    normTopK: true,
    expertWidth: f.int('intermediate_size'),
    ...everyLayerMoe(s.layers),
    qkvBias: bias,
    oBias: bias,
    norm: 'rms',
    expertActivation: 'swiglu',
    embeddingMultiplier: f.num('embedding_multiplier', 1),
    residualMultiplier: f.num('residual_multiplier', 1),
    attentionScale: f.num('attention_multiplier', 1),
    logitsScaling: positive(f.num('logits_scaling', 1), 'logits_scaling'),
  };
}

function positive(v: number, key: string): number {
  if (!(v > 0)) throw new ImportError(`must be a positive number, got ${v}`, CONFIG, key);
  return v;
}
