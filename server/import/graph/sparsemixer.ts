// Phi-3.5-MoE's router at inference: transformers 5.18 models/phimoe/modeling_phimoe.py, sparsemixer(training=False)
// with top_k 2, in plain ONNX ops. For each token:
//   1st: i1 = argmax(s); m1 = s[i1]; keep experts j with (m1 − s_j) / max(|s_j|, m1) ≤ 2·jitter_eps (the others −∞);
//        w1 = softmax(kept)[i1];
//   2nd: the same on s with i1 set to −∞: i2 = its argmax, m2 = s[i2], the threshold against max(|s_j|, m2) of the
//        unmasked s; w2 = softmax(kept₂)[i2].
// The weights are not renormalised. Steering: the choice (i1, then i2) is made on s + expert_bias; the thresholds and
// softmaxes use the raw logits with m = the chosen expert's own raw logit, so a forced expert gets the weight its own
// score earns (unsteered, m is the maximum and this is the model's computation), a disabled one (−1e9) is never
// chosen, and bias 0 changes nothing (argmax of s + 0 = argmax of s).
import type { GraphBuilder } from './builder';

export function sparsemixer(g: GraphBuilder, raw: string, scores: string, jitterEps: number): { sel: string; weights: string } {
  const ninf = g.constF([-Infinity], []);
  const threshold = g.constF([Math.fround(2 * jitterEps)], []);
  const absRaw = g.op('Abs', [raw]);
  const pick = (choice: string, candidates: string): string => {
    const m = g.op('GatherElements', [raw, choice], { axis: 1 }); // [T, 1]
    const factor = g.op('Max', [absRaw, m]); // scores.abs().clamp(min=m)
    const far = g.op('Greater', [g.op('Div', [g.op('Sub', [m, raw]), factor]), threshold]);
    return g.op('GatherElements', [g.op('Softmax', [g.op('Where', [far, ninf, candidates])], { axis: -1 }), choice], { axis: 1 });
  };
  const i1 = g.op('ArgMax', [scores], { axis: -1, keepdims: 1 }); // first index on ties, like torch.max
  const w1 = pick(i1, raw);
  const ninfColumn = g.op('Expand', [ninf, g.op('Shape', [i1])]);
  const i2 = g.op('ArgMax', [g.op('ScatterElements', [scores, i1, ninfColumn], { axis: 1 })], { axis: -1, keepdims: 1 });
  const w2 = pick(i2, g.op('ScatterElements', [raw, i1, ninfColumn], { axis: 1 }));
  return { sel: g.op('Concat', [i1, i2], { axis: 1 }), weights: g.op('Concat', [w1, w2], { axis: 1 }) };
}
