// YaRN rotary scaling (gpt-oss's `rope_parameters.rope_type: "yarn"`), as transformers 5.18's
// modeling_rope_utils._compute_yarn_parameters computes it: inverse frequencies blended between extrapolation
// (1/θ^(2i/d)) and interpolation (that / factor) by a linear ramp over [low, high], the correction range found from
// beta_fast/beta_slow rotations at original_max_position_embeddings (floored/ceiled when `truncate`), and cos/sin
// multiplied by attention_factor (default 0.1·ln(factor) + 1, or the mscale ratio). Values in float32 as torch has them.
export interface YarnParams {
  theta: number;
  factor: number;
  originalMaxPositions: number;
  betaFast: number;
  betaSlow: number;
  truncate: boolean;
  attentionFactor: number | null;
  mscale: number | null;
  mscaleAllDim: number | null;
}

export interface RotaryTable {
  /** inverse frequencies [headDim / 2], float32 values */
  invFreq: number[];
  /** cos and sin are multiplied by this */
  attentionScaling: number;
}

const f = Math.fround;

export function yarnTable(p: YarnParams, headDim: number): RotaryTable {
  const dim = headDim;
  const mscaleOf = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  let attention = p.attentionFactor;
  if (attention == null) attention = p.mscale && p.mscaleAllDim ? mscaleOf(p.factor, p.mscale) / mscaleOf(p.factor, p.mscaleAllDim) : mscaleOf(p.factor);
  const correctionDim = (rotations: number) => (dim * Math.log(p.originalMaxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(p.theta));
  let low = correctionDim(p.betaFast);
  let high = correctionDim(p.betaSlow);
  if (p.truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, dim - 1);
  if (low === high) high += 0.001; // linear_ramp_factor's guard against a zero-width ramp
  const invFreq: number[] = [];
  for (let i = 0; i < dim / 2; i++) {
    const pos = f(p.theta ** f((2 * i) / dim));
    const extrapolation = f(1 / pos);
    const interpolation = f(1 / f(p.factor * pos));
    const ramp = Math.min(1, Math.max(0, f(f(i - low) / f(high - low))));
    const extrapolationFactor = f(1 - ramp);
    invFreq.push(f(f(interpolation * f(1 - extrapolationFactor)) + f(extrapolation * extrapolationFactor)));
  }
  return { invFreq, attentionScaling: attention };
}
