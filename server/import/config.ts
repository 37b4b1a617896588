// config.json of a Hugging Face MoE checkpoint → one normalised description of the network (ModelSpec) that the graph
// builder and the tensor-name tables read. Defaults are those of transformers' configuration classes (5.18), so a
// config.json that leaves a field out means what it means to transformers. Anything the builder cannot reproduce
// exactly is refused here, naming the config field.
import { checkSpecBounds } from './bounds';
import { ImportError } from './errors';
import { expertCount, fields } from './families/fields';
import { FAMILY_PARSERS } from './families/registry';
import type { RotaryTable } from './graph/yarn';
import { excerpt, parseJsonText } from './jsonText';

export const SUPPORTED_ARCHITECTURES = ['MixtralForCausalLM', 'OlmoeForCausalLM', 'Qwen2MoeForCausalLM', 'Qwen3MoeForCausalLM', 'GraniteMoeForCausalLM', 'GptOssForCausalLM', 'PhimoeForCausalLM', 'Glm4MoeForCausalLM', 'DeepseekV3ForCausalLM', 'DeepseekV2ForCausalLM'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export interface ModelSpec {
  architecture: Architecture;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  eps: number;
  ropeTheta: number;
  /** longest sequence: max_position_embeddings, or the sliding window when that is shorter (then it never matters) */
  contextLength: number;
  contextReason: string;
  tied: boolean;
  experts: number;
  topK: number;
  /** renormalise the top-k gate weights to sum to 1 (Mixtral always; norm_topk_prob elsewhere) */
  normTopK: boolean;
  expertWidth: number;
  /** decoder layer indices that have a router (the others have a dense SwiGLU MLP of denseWidth) */
  moeLayers: number[];
  denseWidth: number;
  /** Qwen2-MoE: a shared expert of this width with a sigmoid gate; 0 = none */
  sharedWidth: number;
  qkvBias: boolean;
  oBias: boolean;
  /** none; 'projection': RMSNorm over the whole q/k projection (OLMoE); 'head': per head (Qwen3) */
  qkNorm: 'none' | 'projection' | 'head';
  clipQkv: number | null;
  /** RMSNorm (every Hugging Face architecture here) or LayerNorm with bias (the embedded model) */
  norm: 'rms' | 'layer';
  /** SwiGLU experts (gate, up, down) or GELU experts (w1, w2; the embedded model) */
  expertActivation: 'swiglu' | 'gelu';
  // Family extras (absent = the plain decoder above). Granite-MoE (families/granite.ts):
  /** inputs_embeds ·= this */
  embeddingMultiplier?: number;
  /** residual + block · this, after attention and after the MLP */
  residualMultiplier?: number;
  /** attention scores · this instead of head_dim^-½ */
  attentionScale?: number;
  /** logits ÷ this */
  logitsScaling?: number;
  // gpt-oss (families/gptOss.ts):
  /** rotary table other than the default one (YaRN); ropeTheta is then unused */
  rotary?: RotaryTable;
  /** the router has a bias (router logits include it) */
  routerBias?: boolean;
  /** experts have fc1/fc2 biases */
  expertBiases?: boolean;
  /** the SwiGLU variant min(g, limit)·σ(α·min(g, limit))·(clamp(u, ±limit) + β) */
  swiglu?: { alpha: number; beta: number; limit: number };
  /** one learned sink logit per head in the attention softmax */
  attentionSinks?: boolean;
  /** layers that attend only to the last slidingWindow keys (key > query − window) */
  slidingWindow?: number;
  slidingLayers?: number[];
  // Phi-3.5-MoE (families/phimoe.ts):
  /** the sparsemixer top-2 router with this jitter_eps (router_jitter_noise) instead of softmax top-k */
  sparsemixerJitter?: number;
  /** lm_head has a bias */
  lmHeadBias?: boolean;
  // GLM-4.5 (families/glm4Moe.ts):
  /** rotary on the first rotaryDim channels of each head only (partial_rotary_factor); absent: all headDim */
  rotaryDim?: number;
  /** the shared expert (sharedWidth) is added without a sigmoid gate */
  ungatedShared?: boolean;
  /**
   * the sigmoid router with e_score_correction_bias and group-limited top-k (graph/groupedSigmoidRouter.ts): experts
   * in `groups` equal groups, the best `topkGroup` groups kept, weights × `scaling` (routed_scaling_factor)
   */
  groupedSigmoid?: { groups: number; topkGroup: number; scaling: number };
  // DeepSeek-V2/V3, Kimi-K2, Moonlight (families/deepseek.ts):
  /**
   * multi-head latent attention (graph/mlaAttention.ts): a query LoRA of rank qLoraRank (null: one q_proj), keys and
   * values expanded per head from a kvLoraRank latent, rotary on a ropeDim key shared by the heads (interleaved
   * pairs when `interleave`); the KV cache holds the latent and that key. headDim is nopeDim + ropeDim, rotaryDim ropeDim.
   */
  mla?: { qLoraRank: number | null; kvLoraRank: number; nopeDim: number; ropeDim: number; valueDim: number; interleave: boolean };
  /**
   * DeepSeek-V2's softmax router: top-k of the probabilities, within the best `topkGroup` of `groups` equal groups by
   * each group's best probability (topk_method group_limited_greedy; 1 of 1 for greedy), not renormalised, × `scaling`
   */
  groupedSoftmax?: { groups: number; topkGroup: number; scaling: number };
}

const CONFIG = 'config.json';
type Json = Record<string, unknown>;

const DEFAULT_THETA: Partial<Record<Architecture, number>> = { MixtralForCausalLM: 1e6, OlmoeForCausalLM: 10000, Qwen2MoeForCausalLM: 10000, Qwen3MoeForCausalLM: 10000 };
const DEFAULT_EPS: Partial<Record<Architecture, number>> = { MixtralForCausalLM: 1e-5, OlmoeForCausalLM: 1e-5, Qwen2MoeForCausalLM: 1e-6, Qwen3MoeForCausalLM: 1e-6 };

export function parseConfig(text: string): ModelSpec {
  const c = parseJsonText(text, CONFIG).value as Json;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ImportError('is not a JSON object', CONFIG);
  const archs = c.architectures;
  const arch = Array.isArray(archs) && archs.length === 1 ? archs[0] : undefined;
  if (typeof arch !== 'string' || !(SUPPORTED_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new ImportError(`architecture ${Array.isArray(archs) && archs.length === 1 ? excerpt(archs[0]) : excerpt(archs ?? null)} is not supported; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`, CONFIG, 'architectures');
  }
  const a = arch as Architecture;
  const family = FAMILY_PARSERS[a];
  if (family) {
    // the same bounds for every family: the sizes against each other, eps, the context (bounds.ts)
    const spec = family(c);
    checkSpecBounds(spec);
    return spec;
  }
  // fields.ts: each integer within its maximum (bounds.ts) as it is read, values quoted only through excerpt()
  const { int, num, bool } = fields(c);

  if (c.quantization_config != null) throw new ImportError('quantised checkpoints are not supported (the importer reads F32, F16 and BF16 weights only)', CONFIG, 'quantization_config');
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ImportError(`hidden_act ${excerpt(act)} is not supported (SwiGLU experts use silu)`, CONFIG, 'hidden_act');
  const ropeTheta = rope(c, DEFAULT_THETA[a]!);

  const hidden = int('hidden_size');
  const layers = int('num_hidden_layers');
  const heads = int('num_attention_heads');
  const kvHeads = int('num_key_value_heads', a === 'MixtralForCausalLM' ? 8 : a === 'Qwen3MoeForCausalLM' ? 4 : a === 'Qwen2MoeForCausalLM' ? 16 : heads);
  if (heads === 0 || kvHeads === 0 || heads % kvHeads !== 0) throw new ImportError(`num_attention_heads (${heads}) must be a positive multiple of num_key_value_heads (${kvHeads})`, CONFIG, 'num_key_value_heads');
  const headDim = c.head_dim == null ? Math.floor(hidden / heads) : int('head_dim');
  if (headDim % 2 !== 0) throw new ImportError(`head_dim ${headDim} must be even for rotary embeddings`, CONFIG, 'head_dim');
  const maxPos = int('max_position_embeddings');
  let contextLength = maxPos;
  let contextReason = 'max_position_embeddings';
  const window = slidingWindow(c, a);
  if (window !== null && window < maxPos) {
    contextLength = window;
    contextReason = 'sliding_window: documents are analysed in windows no longer than the attention window, so the window never cuts attention';
  }

  const mixtral = a === 'MixtralForCausalLM';
  const qwen = a === 'Qwen2MoeForCausalLM' || a === 'Qwen3MoeForCausalLM';
  // transformers 5 writes Qwen3-MoE's count as num_local_experts (the hub's 4.x files: num_experts)
  const expertsKey = mixtral || (c.num_experts == null && c.num_local_experts != null) ? 'num_local_experts' : 'num_experts';
  const experts = mixtral ? int(expertsKey) : expertCount(c, fields(c)).experts;
  const topK = int('num_experts_per_tok');
  if (experts < 2) throw new ImportError(`a Mixture-of-Experts model needs at least 2 experts, got ${experts}`, CONFIG, expertsKey);
  if (topK < 1 || topK > experts) throw new ImportError(`must be 1–${experts}`, CONFIG, 'num_experts_per_tok');

  let moeLayers = [...Array(layers).keys()]; // layers ≤ CONFIG_MAXIMA.num_hidden_layers (bounds.ts)
  if (qwen) {
    const step = int('decoder_sparse_step', 1);
    const only = c.mlp_only_layers ?? [];
    if (!Array.isArray(only) || !only.every((x) => Number.isInteger(x) && x >= 0 && x < layers)) throw new ImportError(`must be a list of layer indices 0–${layers - 1}`, CONFIG, 'mlp_only_layers');
    if (only.length > layers) throw new ImportError(`lists ${only.length} layers but the model has ${layers}`, CONFIG, 'mlp_only_layers');
    const dense = new Set(only as number[]);
    // transformers: sparse iff (layer not in mlp_only_layers) and num_experts > 0 and (layer + 1) % decoder_sparse_step == 0
    moeLayers = moeLayers.filter((l) => !dense.has(l) && step > 0 && (l + 1) % step === 0);
    if (moeLayers.length === 0) throw new ImportError('no decoder layer has experts (every layer is in mlp_only_layers or skipped by decoder_sparse_step)', CONFIG, 'mlp_only_layers');
  }
  const clip = c.clip_qkv;
  if (clip != null && (typeof clip !== 'number' || !(clip > 0))) throw new ImportError('must be a positive number or null', CONFIG, 'clip_qkv');
  const spec: ModelSpec = {
    architecture: a,
    hidden,
    layers,
    heads,
    kvHeads,
    headDim,
    vocab: int('vocab_size'),
    eps: num('rms_norm_eps', DEFAULT_EPS[a]!),
    ropeTheta,
    contextLength,
    contextReason,
    tied: bool('tie_word_embeddings', false),
    experts,
    topK,
    normTopK: mixtral ? true : bool('norm_topk_prob', false),
    expertWidth: mixtral || a === 'OlmoeForCausalLM' ? int('intermediate_size') : int('moe_intermediate_size'),
    moeLayers,
    denseWidth: qwen && moeLayers.length < layers ? int('intermediate_size') : 0,
    sharedWidth: a === 'Qwen2MoeForCausalLM' ? int('shared_expert_intermediate_size') : 0,
    qkvBias: a === 'Qwen2MoeForCausalLM' ? bool('qkv_bias', true) : a === 'MixtralForCausalLM' ? false : bool('attention_bias', false),
    oBias: a === 'OlmoeForCausalLM' || a === 'Qwen3MoeForCausalLM' ? bool('attention_bias', false) : false,
    qkNorm: a === 'OlmoeForCausalLM' ? 'projection' : a === 'Qwen3MoeForCausalLM' ? 'head' : 'none',
    clipQkv: a === 'OlmoeForCausalLM' ? ((clip as number | null | undefined) ?? null) : null,
    norm: 'rms',
    expertActivation: 'swiglu',
  };
  checkSpecBounds(spec);
  return spec;
}

export { rope as ropeTheta };

/** rope_theta from transformers 5's rope_parameters or the hub's older rope_theta; any scaled or partial RoPE is refused. */
function rope(c: Json, dflt: number): number {
  const params = c.rope_parameters as Json | null | undefined;
  if (params != null) {
    if (typeof params !== 'object' || Array.isArray(params)) throw new ImportError('must be an object', CONFIG, 'rope_parameters');
    const type = params.rope_type ?? params.type ?? 'default';
    if (type !== 'default') throw new ImportError(`RoPE variant ${excerpt(type)} is not supported (only the default, unscaled rotary embedding)`, CONFIG, 'rope_parameters.rope_type');
    if (params.partial_rotary_factor != null && params.partial_rotary_factor !== 1) throw new ImportError('partial rotary embeddings are not supported', CONFIG, 'rope_parameters.partial_rotary_factor');
  }
  const scaling = c.rope_scaling as Json | null | undefined;
  if (scaling != null) {
    const type = typeof scaling === 'object' ? (scaling.rope_type ?? scaling.type) : scaling;
    if (type !== 'default') throw new ImportError(`RoPE scaling ${excerpt(type)} is not supported (only the default, unscaled rotary embedding)`, CONFIG, 'rope_scaling');
  }
  if (c.partial_rotary_factor != null && c.partial_rotary_factor !== 1) throw new ImportError('partial rotary embeddings are not supported', CONFIG, 'partial_rotary_factor');
  const theta = (params?.rope_theta as unknown) ?? c.rope_theta ?? dflt;
  if (typeof theta !== 'number' || !(theta > 0)) throw new ImportError(`must be a positive number, got ${excerpt(theta)}`, CONFIG, params?.rope_theta != null ? 'rope_parameters.rope_theta' : 'rope_theta');
  return theta;
}

/** The attention window transformers would apply, or null when every layer attends to all earlier tokens. */
function slidingWindow(c: Json, a: Architecture): number | null {
  const w = c.sliding_window;
  if (a === 'OlmoeForCausalLM') return null; // OLMoE's mask ignores sliding_window (create_causal_mask)
  if (a === 'Qwen2MoeForCausalLM' || a === 'Qwen3MoeForCausalLM') {
    if (c.use_sliding_window !== true) return null;
  }
  if (w == null || w === 0) return null;
  if (!Number.isInteger(w) || (w as number) < 1) throw new ImportError('must be a positive integer or null', CONFIG, 'sliding_window');
  return w as number;
}
