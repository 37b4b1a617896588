// Multi-head latent attention (DeepSeek-V2/V3, Kimi-K2, Moonlight), as transformers 5.18's DeepseekV3Attention and
// DeepseekV2Attention compute it with eager attention, per layer on x [T, hidden]:
//   q = q_b(RMSNorm(q_a(x))) (or q_proj(x)), per head [nope | rope];
//   [latent | k_rot] = kv_a_proj_with_mqa(x); latent = kv_a_layernorm(latent); k_rot is one key shared by the heads;
//   q_rot and k_rot are rotated; keys and values come from kv_b_proj(latent) per head, [k_nope | v];
//   softmax(q·kᵀ · scaling + mask) · v → o_proj.
// The KV cache holds what transformers 5.18 caches itself (`past_key_values.update(kv_nope, k_rot)`): the normalised
// latent [1, 1, S, kv_lora_rank] as "key" and the rotated shared key [1, 1, S, qk_rope_head_dim] as "value"; each run
// expands the whole latent through kv_b_proj again. The expanded cache would hold heads·(nope + rope + v) floats per
// token and layer instead of kv_lora_rank + rope: for DeepSeek-V3 128·(128 + 64 + 128) = 40960 against 576, 71× the
// memory (a 4k-token document at fp32: 671 MB per layer against 9.4 MB), for kv_b_proj's cost of
// S·kv_lora_rank·heads·(nope + v) multiply-adds per layer per run, which a one-token edit then pays over the whole
// past (the price of a cache that fits).
// q·kᵀ is computed as q_nope·k_noperᵀ + q_rot·k_rotᵀ, the rotary term broadcast over the heads rather than k_rot copied
// to every head (expand_kv's key concatenation): the same sum, in another order (float32 rounding, ~1e-7).
// Rotary: interleaved pairs (x0, x1), (x2, x3)… (V3's rope_interleave, and V2's complex product, whose output stays
// interleaved) are rotated as apply_rotary_pos_emb_interleave does, into [evens' rotation | odds' rotation]: V2's
// interleaved output is a permutation of that, applied alike to q and k, so q·k is the same.
import type { ModelSpec } from '../config';
import type { LayerNames } from '../tensorNames';
import type { AttentionContext } from './attention';
import type { GraphBuilder } from './builder';
import { applyRotary, linear, rmsNorm } from './layers';
import type { WeightSource } from './weights';

/** DeepseekV{2,3}RMSNorm(q_lora_rank) and (kv_lora_rank) take the class default eps, not config.rms_norm_eps. */
const LATENT_NORM_EPS = 1e-6;

/** The cache tensors' last dimensions: [1, 1, S, keyDim] (the latent) and [1, 1, S, valueDim] (the rotary key). */
export const latentCacheShape = (m: NonNullable<ModelSpec['mla']>) => ({ heads: 1, keyDim: m.kvLoraRank, valueDim: m.ropeDim });

export function mlaAttention(g: GraphBuilder, src: WeightSource, spec: ModelSpec, n: LayerNames, x: string, ctx: AttentionContext, pastKey: string, pastValue: string) {
  const m = spec.mla!;
  const w = n.mla!;
  const { hidden: H, heads } = spec;
  const qk = m.nopeDim + m.ropeDim;
  const slice = (v: string, from: number, to: number, step?: number) => g.op('Slice', step ? [v, g.constI([from]), g.constI([to]), g.constI([-1]), g.constI([step])] : [v, g.constI([from]), g.constI([to]), g.constI([-1])]);
  const perHead = (v: string, d: number) => g.op('Transpose', [g.op('Reshape', [v, g.constI([1, -1, heads, d])])], { perm: [0, 2, 1, 3] }); // [T, h·d] → [1, h, T, d]

  const q = m.qLoraRank === null
    ? linear(g, src, x, n.q, heads * qk, H)
    : linear(g, src, rmsNorm(g, src, linear(g, src, x, w.qA, m.qLoraRank, H, spec.qkvBias ? w.qABias : undefined), w.qANorm, m.qLoraRank, LATENT_NORM_EPS), w.qB, heads * qk, m.qLoraRank);
  const q4 = perHead(q, qk);
  const compressed = linear(g, src, x, w.kvA, m.kvLoraRank + m.ropeDim, H, spec.qkvBias ? w.kvABias : undefined); // [T, kv_lora_rank + rope]
  const latent = g.op('Reshape', [rmsNorm(g, src, slice(compressed, 0, m.kvLoraRank), w.kvANorm, m.kvLoraRank, LATENT_NORM_EPS), g.constI([1, 1, -1, m.kvLoraRank])]);
  const kRot = g.op('Reshape', [slice(compressed, m.kvLoraRank, m.kvLoraRank + m.ropeDim), g.constI([1, 1, -1, m.ropeDim])]);
  const rotate = (v: string) => (m.interleave ? rotateInterleaved(g, v, ctx.rope, m.ropeDim, slice) : applyRotary(g, v, ctx.rope, m.ropeDim));
  const qRot = rotate(slice(q4, m.nopeDim, qk)); // [1, h, T, rope]
  const presentKey = g.op('Concat', [pastKey, latent], { axis: 2 }); // [1, 1, S, kv_lora_rank]
  const presentValue = g.op('Concat', [pastValue, rotate(kRot)], { axis: 2 }); // [1, 1, S, rope]

  const expanded = perHead(linear(g, src, g.op('Reshape', [presentKey, g.constI([-1, m.kvLoraRank])]), w.kvB, heads * (m.nopeDim + m.valueDim), m.kvLoraRank), m.nopeDim + m.valueDim); // [1, h, S, nope + v]
  const kNope = slice(expanded, 0, m.nopeDim);
  const value = slice(expanded, m.nopeDim, m.nopeDim + m.valueDim);
  const keysT = (k: string) => g.op('Transpose', [k], { perm: [0, 1, 3, 2] });
  const dots = g.op('Add', [g.op('MatMul', [slice(q4, 0, m.nopeDim), keysT(kNope)]), g.op('MatMul', [qRot, keysT(presentValue)])]); // [1, h, T, S]
  const scores = g.op('Mul', [dots, g.constF([Math.fround(spec.attentionScale ?? qk ** -0.5)], [])]);
  const probs = g.op('Softmax', [g.op('Where', [ctx.allowed, scores, g.constF([-3.4028234663852886e38], [])])], { axis: -1 });
  const merged = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, value])], { perm: [0, 2, 1, 3] }), g.constI([-1, heads * m.valueDim])]);
  const out = linear(g, src, merged, n.o, H, heads * m.valueDim, spec.oBias ? n.oBias : undefined);
  return { out, presentKey, presentValue };
}

/**
 * apply_rotary_pos_emb_interleave on [..., T, d]: pairs (x₂ᵢ, x₂ᵢ₊₁) rotated by frequency i, written as
 * [x_even·cos − x_odd·sin | x_odd·cos + x_even·sin], cos/sin the first half of cat(freqs, freqs).
 */
function rotateInterleaved(g: GraphBuilder, x: string, rope: { cos: string; sin: string }, d: number, slice: (v: string, from: number, to: number, step?: number) => string): string {
  const cos = slice(rope.cos, 0, d / 2);
  const sin = slice(rope.sin, 0, d / 2);
  const even = slice(x, 0, d, 2);
  const odd = slice(x, 1, d, 2);
  return g.op('Concat', [g.op('Sub', [g.op('Mul', [even, cos]), g.op('Mul', [odd, sin])]), g.op('Add', [g.op('Mul', [odd, cos]), g.op('Mul', [even, sin])])], { axis: -1 });
}
