// Bounds before work: a config.json from the internet can claim 2^32 layers or a million experts, and a safetensors
// header can list 1.6 million tensors; without limits the importer allocates for them before reading a single weight
// (1e9 layers aborted Node out of memory; 2^32 layers threw "Invalid array length"). Every size is checked against a
// sane maximum as it is read, the sizes against each other once the spec is complete, and the checkpoint's headers
// against what the spec implies before their JSON is parsed.
import type { ModelSpec } from './config';
import { ImportError } from './errors';

/**
 * The largest value each config.json size may have: well above any released model (the largest have 126 layers,
 * 384 experts, hidden 16384, 128 heads of 128, vocabularies of 262k, FFN widths of 53k, 10M-token contexts), and
 * small enough that arrays sized by them stay small.
 */
export const CONFIG_MAXIMA: Record<string, number> = {
  num_hidden_layers: 1024,
  num_local_experts: 4096,
  num_experts: 4096,
  num_experts_per_tok: 256,
  hidden_size: 65536,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 4096,
  intermediate_size: 1_048_576,
  moe_intermediate_size: 1_048_576,
  shared_expert_intermediate_size: 1_048_576,
  vocab_size: 4_194_304,
  max_position_embeddings: 2 ** 27,
  sliding_window: 2 ** 27,
  decoder_sparse_step: 1024,
  // GLM-4.5 (families/glm4Moe.ts): groups of the routed experts, and dense layers before the first MoE layer
  n_routed_experts: 4096,
  n_group: 4096,
  topk_group: 4096,
  n_shared_experts: 256,
  first_k_dense_replace: 1024,
  // DeepSeek's latent attention (families/deepseek.ts): DeepSeek-V3 has 1536, 512, 128, 64, 128
  q_lora_rank: 65536,
  kv_lora_rank: 65536,
  qk_nope_head_dim: 4096,
  qk_rope_head_dim: 4096,
  v_head_dim: 4096,
};

/** Any other integer field of config.json. */
export const DEFAULT_MAXIMUM = 2 ** 31 - 1;

export const maximumFor = (key: string): number => CONFIG_MAXIMA[key] ?? DEFAULT_MAXIMUM;

const CONFIG = 'config.json';

/** The sizes against each other (each alone is already within its maximum). */
export function checkSpecBounds(s: ModelSpec): void {
  if (s.layers < 1) throw new ImportError('must be at least 1', CONFIG, 'num_hidden_layers');
  if (s.hidden < 1) throw new ImportError('must be at least 1', CONFIG, 'hidden_size');
  if (s.vocab < 1) throw new ImportError('must be at least 1', CONFIG, 'vocab_size');
  if (s.headDim < 2) throw new ImportError(`head_dim ${s.headDim} is too small (hidden_size / num_attention_heads unless set)`, CONFIG, 'head_dim');
  if (s.kvHeads > s.heads) throw new ImportError(`num_key_value_heads (${s.kvHeads}) exceeds num_attention_heads (${s.heads})`, CONFIG, 'num_key_value_heads');
  // Real models have heads × head_dim between hidden/2 and 2 × hidden (Qwen3-30B-A3B: 32 × 128 = 2 × 2048).
  if (s.heads * s.headDim > 16 * s.hidden) throw new ImportError(`num_attention_heads × head_dim (${s.heads} × ${s.headDim}) is more than 16 × hidden_size (${s.hidden})`, CONFIG, 'head_dim');
  // GLM-4.5's shared MLP is moe_intermediate_size × n_shared_experts wide: no wider than any one FFN may be
  if (s.sharedWidth > CONFIG_MAXIMA.intermediate_size) throw new ImportError(`the shared experts' width ${s.sharedWidth} is more than the ${CONFIG_MAXIMA.intermediate_size} the importer accepts`, CONFIG, 'n_shared_experts');
  if (s.expertWidth < 1) throw new ImportError('the expert width must be at least 1', CONFIG, 'intermediate_size');
  if (s.contextLength < 1) throw new ImportError('must be at least 1 (the longest sequence the model takes)', CONFIG, 'max_position_embeddings');
  if (!(s.eps > 0 && s.eps < 1)) throw new ImportError(`must be a small positive number, got ${s.eps} (RMSNorm divides by sqrt(mean(x²) + eps))`, CONFIG, 'rms_norm_eps');
}

/** How many tensors a checkpoint for `s` holds, roughly: attention and norms, router and experts, embeddings. */
export function expectedTensors(s: ModelSpec): number {
  const moe = s.moeLayers.length;
  return s.layers * 16 + moe * (3 * s.experts + 6) + (s.layers - moe) * 3 + 4;
}

/**
 * The most tensors any checkpoint may have, whatever its config claims: 2.9 × DeepSeek-V3's 91k (FP8 scales included),
 * the most of any released MoE checkpoint. Without it a config claiming 1024 layers × 4096 experts (each within its
 * maximum, and cheap to lie about) allowed 50M tensors, and a 99 MB header of 1.6M empty tensors over a sparse 1 GB
 * file was parsed into 1.5 GB (an out-of-memory abort under a 512 MB heap).
 */
export const MAX_CHECKPOINT_TENSORS = 262_144;

/**
 * At most this many tensors in the whole checkpoint: four times what the spec implies (quantisation scales, extra
 * heads such as multi-token prediction) plus 4096, never more than MAX_CHECKPOINT_TENSORS; a header or an index that
 * lists more is refused before its JSON is parsed (jsonText.ts counts the entries in its linear scan).
 */
export const maxTensors = (s: ModelSpec): number => Math.min(4 * expectedTensors(s) + 4096, MAX_CHECKPOINT_TENSORS);

/**
 * JSON values a header may hold per tensor: {"dtype", "shape": up to 8 dims, "data_offsets": [b, e]} is at most 12;
 * the rest is room for __metadata__ (a map of strings). Counted before the parse, so one entry with a 50M-element
 * shape list is refused without building it.
 */
export const HEADER_VALUES_PER_TENSOR = 16;

/**
 * A safetensors header's size limit for `s`: 1 MiB plus 512 bytes per tensor allowed (a real header spends about 150
 * bytes per tensor), never more than the format's own 100 MB.
 */
export const maxHeaderBytes = (s: ModelSpec, formatLimit: number): number => Math.min(formatLimit, 2 ** 20 + 512 * maxTensors(s));

/** The weights the spec's largest matrices need: the embedding and every expert. */
export function expectedParameters(s: ModelSpec): number {
  const perExpert = (s.expertActivation === 'gelu' ? 2 : 3) * s.hidden * s.expertWidth;
  return s.vocab * s.hidden + s.moeLayers.length * s.experts * perExpert;
}

/**
 * The checkpoint against the spec, before conversion: not more tensors than allowed, and at least one bit of weights
 * per parameter the spec implies (a config that claims far more than the files hold is refused here, before
 * anything is sized by it, rather than tensor by tensor).
 */
export function checkCheckpointBounds(s: ModelSpec, tensors: number, bytes: number, file: string): void {
  const max = maxTensors(s);
  if (tensors > max) throw new ImportError(`the checkpoint has ${tensors} tensors, more than the ${max} a ${s.layers}-layer, ${s.experts}-expert model can use`, file);
  checkWeightBytes(s, bytes, 'tensor data');
}

/**
 * At least one bit per parameter the spec implies in `bytes`. Run first on the weight files' sizes, when only their
 * 8-byte header lengths have been read (a config claiming 1024 layers × 4096 experts is refused before any header is
 * parsed for it), then on the tensor data the headers list.
 */
export function checkWeightBytes(s: ModelSpec, bytes: number, what: 'tensor data' | 'weight files'): void {
  const params = expectedParameters(s);
  if (bytes * 8 < params) {
    throw new ImportError(`the sizes imply ${params.toExponential(2)} weights but the checkpoint holds only ${bytes} bytes of ${what}`, CONFIG, 'num_hidden_layers');
  }
}
