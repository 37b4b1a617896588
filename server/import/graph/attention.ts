// Causal self-attention with rotary embeddings, grouped-query heads and a key/value cache, as transformers'
// eager_attention_forward: softmax((q·kᵀ)·head_dim^-½ + causal mask) · v. Keys and values are cached after RoPE,
// [1, kvHeads, positions, headDim] per layer (the layout moe.json's kvCache declares).
import type { ModelSpec } from '../config';
import type { LayerNames } from '../tensorNames';
import type { GraphBuilder } from './builder';
import { applyRotary, linear, rmsNorm } from './layers';
import { softmaxWithSinks } from './sinks';
import type { WeightSource } from './weights';

export interface AttentionContext {
  rope: { cos: string; sin: string };
  /** [T, S] bool: query t may attend to key s (s ≤ past + t) */
  allowed: string;
  /** the same within spec.slidingWindow (gpt-oss's sliding layers), when the model has such layers */
  allowedSliding?: string;
  /** shapes as int64 1-D constants/values */
  T: string;
}

/** One attention block on x [T, hidden]; returns the output [T, hidden] and this layer's present key and value. */
export function attention(g: GraphBuilder, src: WeightSource, spec: ModelSpec, n: LayerNames, x: string, ctx: AttentionContext, pastKey: string, pastValue: string) {
  const { hidden, heads, kvHeads, headDim } = spec;
  const groups = heads / kvHeads;
  let q = linear(g, src, x, n.q, heads * headDim, hidden, spec.qkvBias ? n.qBias : undefined);
  let k = linear(g, src, x, n.k, kvHeads * headDim, hidden, spec.qkvBias ? n.kBias : undefined);
  let v = linear(g, src, x, n.v, kvHeads * headDim, hidden, spec.qkvBias ? n.vBias : undefined);
  if (spec.qkNorm === 'projection') {
    // OLMoE: RMSNorm over the whole projection, before the heads are split.
    q = rmsNorm(g, src, q, n.qNorm, heads * headDim, spec.eps);
    k = rmsNorm(g, src, k, n.kNorm, kvHeads * headDim, spec.eps);
  }
  if (spec.clipQkv !== null) {
    const lo = g.constF([-spec.clipQkv], []);
    const hi = g.constF([spec.clipQkv], []);
    q = g.op('Clip', [q, lo, hi]);
    k = g.op('Clip', [k, lo, hi]);
    v = g.op('Clip', [v, lo, hi]);
  }
  // [T, h·d] → [1, T, h, d] (per-head norm here, Qwen3) → [1, h, T, d]
  const heads4 = (val: string, h: number) => g.op('Reshape', [val, g.constI([1, -1, h, headDim])]);
  let q4 = heads4(q, heads);
  let k4 = heads4(k, kvHeads);
  if (spec.qkNorm === 'head') {
    q4 = rmsNorm(g, src, q4, n.qNorm, headDim, spec.eps);
    k4 = rmsNorm(g, src, k4, n.kNorm, headDim, spec.eps);
  }
  // rotaryDim: GLM-4.5 rotates only the first int(head_dim · partial_rotary_factor) channels of each head
  const qh = applyRotary(g, g.op('Transpose', [q4], { perm: [0, 2, 1, 3] }), ctx.rope, headDim, spec.rotaryDim);
  const kh = applyRotary(g, g.op('Transpose', [k4], { perm: [0, 2, 1, 3] }), ctx.rope, headDim, spec.rotaryDim);
  const vh = g.op('Transpose', [heads4(v, kvHeads)], { perm: [0, 2, 1, 3] });
  const presentKey = g.op('Concat', [pastKey, kh], { axis: 2 }); // [1, kvH, S, d]
  const presentValue = g.op('Concat', [pastValue, vh], { axis: 2 });
  // Grouped-query attention without copying keys: query head h = kv·groups + j reads kv head kv (repeat_kv), so
  // [1, h, T, d] → [1, kvH, groups, T, d] and the keys broadcast over the groups axis.
  const q5 = g.op('Reshape', [qh, g.constI([1, kvHeads, groups, -1, headDim])]);
  const k5 = g.op('Unsqueeze', [presentKey, g.constI([2])]); // [1, kvH, 1, S, d]
  // q·kᵀ·scale as one FusedMatMul reading the keys transposed in place: a Transpose node before the MatMul wrote the
  // whole key cache out again at every run (a one-token edit at 2048 past tokens copies every layer's keys), and the
  // Unsqueeze between them kept onnxruntime from fusing the two itself. scale: head_dim^-½, or Granite's
  // attention_multiplier.
  const scale = Math.fround(spec.attentionScale ?? headDim ** -0.5);
  const scores = g.op('FusedMatMul', [q5, k5], { transA: 0, transB: 1, alpha: { float: scale } }, 'com.microsoft'); // [1, kvH, g, T, S]
  const sliding = ctx.allowedSliding !== undefined && spec.slidingLayers?.includes(n.layer ?? -1);
  const masked = g.op('Where', [sliding ? ctx.allowedSliding! : ctx.allowed, scores, g.constF([-3.4028234663852886e38], [])]);
  const probs = spec.attentionSinks && n.sinks ? softmaxWithSinks(g, src, masked, n.sinks, heads, kvHeads) : g.op('Softmax', [masked], { axis: -1 });
  const ctx5 = g.op('MatMul', [probs, g.op('Unsqueeze', [presentValue, g.constI([2])])]); // [1, kvH, g, T, d]
  const merged = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [ctx5, g.constI([1, heads, -1, headDim])])], { perm: [0, 2, 1, 3] }), g.constI([-1, heads * headDim])]);
  const out = linear(g, src, merged, n.o, hidden, heads * headDim, spec.oBias ? n.oBias : undefined);
  return { out, presentKey, presentValue };
}
