// LongRoPE (Phi-3.5-MoE's rope_type "longrope"), as transformers 5.18 computes it for Phimoe:
// modeling_rope_utils._compute_longrope_parameters gives inv_freq = 1 / (ext_factors · θ^(2i/d)) with ext_factors =
// short_factor unless seq_len > original_max_position_embeddings — and PhimoeRotaryEmbedding.forward calls it without
// seq_len, so the short factors always apply; cos/sin are multiplied by short_mscale, or long_mscale once the sequence
// is longer than original_max_position_embeddings (families/phimoe.ts keeps the context within that when they differ).
import type { RotaryTable } from './yarn';

const f = Math.fround;

export function longropeTable(theta: number, shortFactor: number[], mscale: number, headDim: number): RotaryTable {
  const invFreq = shortFactor.map((s, i) => f(1 / f(f(s) * f(theta ** f((2 * i) / headDim)))));
  return { invFreq, attentionScaling: mscale };
}
