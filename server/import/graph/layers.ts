// The small pieces every architecture shares, with transformers' arithmetic: Linear (x @ Wᵀ + b, weights kept in the
// checkpoint's [out, in] layout via Gemm transB), RMSNorm in float32, SwiGLU MLP, rotary embeddings.
import type { GraphBuilder } from './builder';
import { quantLinear } from './quantLayers';
import type { WeightSource } from './weights';
import type { RotaryTable } from './yarn';

/**
 * nn.Linear on a 2-D [rows, in] value: Gemm(x, W, b, transB=1); in a quantised graph MatMulNBits unless `float`
 * (routers and Qwen2-MoE's shared-expert gate stay float32: they decide, they do not compute).
 */
export function linear(g: GraphBuilder, src: WeightSource, x: string, weight: string, outF: number, inF: number, bias?: string, float = false): string {
  const b = bias ? g.weight(bias, [outF], src.read(bias, [outF])) : undefined;
  if (g.quant && !float) return quantLinear(g, weight, src.read(weight, [outF, inF]), outF, inF, x, b);
  const w = g.weight(weight, [outF, inF], src.read(weight, [outF, inF]));
  return g.op('Gemm', b ? [x, w, b] : [x, w], { transB: 1 });
}

/**
 * RMSNorm over the last axis: x · 1/sqrt(mean(x²) + eps), times the weight (transformers computes it in float32 and
 * multiplies by the weight last, as here).
 */
export function rmsNorm(g: GraphBuilder, src: WeightSource, x: string, weight: string, size: number, eps: number): string {
  const w = g.weight(weight, [size], src.read(weight, [size]));
  const mean = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [mean, g.constF([eps], [])])])]);
  return g.op('Mul', [w, g.op('Mul', [x, inv])]);
}

/** LayerNorm with weight and bias over the last axis (torch's nn.LayerNorm, eps 1e-5): the embedded model's norm. */
export function layerNorm(g: GraphBuilder, src: WeightSource, x: string, weight: string, size: number, eps: number): string {
  const w = g.weight(weight, [size], src.read(weight, [size]));
  const biasName = weight.replace(/weight$/, 'bias');
  const b = g.weight(biasName, [size], src.read(biasName, [size]));
  return g.op('LayerNormalization', [x, w, b], { axis: -1, epsilon: { float: eps } });
}

/** The model's norm: RMSNorm, or LayerNorm (weight name + its ".bias") for spec.norm 'layer'. */
export function norm(g: GraphBuilder, src: WeightSource, spec: { norm: 'rms' | 'layer'; eps: number }, x: string, weight: string, size: number): string {
  return spec.norm === 'layer' ? layerNorm(g, src, x, weight, size, spec.eps) : rmsNorm(g, src, x, weight, size, spec.eps);
}

/** down(silu(gate(x)) · up(x)): the dense MLP of a layer without experts, and Qwen2-MoE's shared expert. */
export function swigluMlp(g: GraphBuilder, src: WeightSource, x: string, names: { gate: string; up: string; down: string }, hidden: number, width: number): string {
  const gate = linear(g, src, x, names.gate, width, hidden);
  const up = linear(g, src, x, names.up, width, hidden);
  const act = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
  return linear(g, src, g.op('Mul', [act, up]), names.down, hidden, width);
}

/**
 * cos and sin [T, headDim] for positions past..past+T-1, as transformers' default rotary embedding: inv_freq =
 * 1 / θ^(2i/d) in float32, freqs = position · inv_freq, emb = [freqs, freqs].
 */
export function rotary(g: GraphBuilder, positions: string, headDim: number, theta: number, table?: RotaryTable): { cos: string; sin: string } {
  // table: another rotary's inverse frequencies and cos/sin scaling (YaRN, graph/yarn.ts)
  const inv = table?.invFreq ?? Array.from({ length: headDim / 2 }, (_, i) => Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim))));
  const pos = g.op('Unsqueeze', [g.op('Cast', [positions], { to: 1 }), g.constI([1])]); // [T, 1] float
  const freqs = g.op('Mul', [pos, g.constF(inv, [1, headDim / 2])]);
  const emb = g.op('Concat', [freqs, freqs], { axis: -1 });
  if (table && table.attentionScaling !== 1) {
    const s = g.constF([Math.fround(table.attentionScaling)], []);
    return { cos: g.op('Mul', [g.op('Cos', [emb]), s]), sin: g.op('Mul', [g.op('Sin', [emb]), s]) };
  }
  return { cos: g.op('Cos', [emb]), sin: g.op('Sin', [emb]) };
}

/**
 * x·cos + rotate_half(x)·sin on [..., T, headDim], rotate_half(x) = [-x₂, x₁]. With rotaryDim < headDim (GLM-4.5's
 * partial_rotary_factor) only the first rotaryDim channels rotate (cos/sin are that wide) and the rest pass through,
 * as transformers' apply_rotary_pos_emb: cat([q_rot·cos + rotate_half(q_rot)·sin, q_pass]).
 */
export function applyRotary(g: GraphBuilder, x: string, rope: { cos: string; sin: string }, headDim: number, rotaryDim = headDim): string {
  const rot = rotaryDim === headDim ? x : g.op('Slice', [x, g.constI([0]), g.constI([rotaryDim]), g.constI([-1])]);
  const half = rotaryDim / 2;
  const x1 = g.op('Slice', [rot, g.constI([0]), g.constI([half]), g.constI([-1])]);
  const x2 = g.op('Slice', [rot, g.constI([half]), g.constI([rotaryDim]), g.constI([-1])]);
  const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
  const embedded = g.op('Add', [g.op('Mul', [rot, rope.cos]), g.op('Mul', [rotated, rope.sin])]);
  if (rotaryDim === headDim) return embedded;
  return g.op('Concat', [embedded, g.op('Slice', [x, g.constI([rotaryDim]), g.constI([headDim]), g.constI([-1])])], { axis: -1 });
}
