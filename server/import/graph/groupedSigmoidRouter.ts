// GLM-4.5's router (transformers 5.18 models/glm4_moe/modeling_glm4_moe.py, Glm4MoeTopkRouter.forward; DeepSeek-V3's
// DeepseekV3TopkRouter is the same) in plain ONNX ops, for one MoE layer. transformers, per token:
//   scores = sigmoid(router_logits) in float32; choice = scores + e_score_correction_bias;
//   group score = the sum of the top-2 `choice` values of each of n_group equal groups; the topk_group best groups are
//   kept, the other groups' experts set to −inf; ids = top-k of `choice` over what is left;
//   weights = scores (unbiased) at ids, divided by (their sum + 1e-20) when norm_topk_prob, times routed_scaling_factor.
//
// How the MoE op is made to use it: com.microsoft.MoE (moeLayer.ts) takes router "probabilities" it softmaxes itself,
// top-k's and renormalises (normalize_routing_weights=1). It cannot separate the choice (biased, grouped) from the
// weights (unbiased), so both are computed here and the op only applies them: it is fed log(scores) at the chosen
// experts and −1e9 elsewhere. log(sigmoid) of a float32 logit is at least −104 ≫ −1e9, so the op's own top-k picks
// exactly the chosen experts, and its softmax over them gives scores_i / Σ_chosen scores_j. The op is linear in its
// weights, so multiplying its output per token by Σ_k weights_k (the true weights' sum, routed_scaling_factor included)
// gives Σ_k weights_k·expert_k exactly (this is the sparsemixer's construction, sparsemixer.ts, and the
// non-renormalised one of moeLayer.ts). expert_weights reports the weights before routed_scaling_factor (a constant of
// the model; GLM-4.5's is 2.5), so that they stay in [0, 1] as every other family's.
// The log is of max(score, 1e-30): a score that underflows to 0 (logit below −104) would make the op's softmax NaN
// when every chosen score did; the clamp changes nothing else that float32 can see.
//
// Steering: expert_bias is added to `choice` (so it also moves the group scores) before the group and expert top-k;
// the weights stay the unbiased scores. A disabled expert (−1e9) is never chosen while its kept groups hold k other
// experts (it drags its group's score down rather than up); a forced one (+1e9) lifts its group above every other and
// is chosen, with the weight its own sigmoid score earns among the chosen; bias 0 adds exact zeros (bit for bit).
// When topk_group = n_group every group is kept, and the group step is left out (GLM-4.5 and -Air: n_group 1).
import type { GraphBuilder } from './builder';
import { limitToGroups } from './expertGroups';
import type { WeightSource } from './weights';

export interface GroupedSigmoid {
  groups: number;
  topkGroup: number;
  scaling: number;
}

/**
 * sel [T, K] int64 (by biased score, best first), weights [T, K] (transformers' topk_weights ÷ routed_scaling_factor),
 * logWeights [T, K] (what the op is fed at sel), outScale [T, 1] (what the op's output is multiplied by: the sum of
 * transformers' topk_weights).
 */
export function groupedSigmoidRouter(g: GraphBuilder, src: WeightSource, raw: string, steer: string | null, correctionBias: string, r: GroupedSigmoid, E: number, K: number, normTopK: boolean): { sel: string; weights: string; logWeights: string; outScale: string } {
  const scores = g.op('Sigmoid', [raw]); // raw is float32 (the router's Gemm is never quantised)
  // float32 even under --dtype fp16, as transformers keeps it (_keep_in_fp32_modules_strict): fp16's step at GLM's
  // bias magnitudes would be coarser than the differences between the scores it orders
  let choice = g.op('Add', [scores, g.constF(Array.from(src.read(correctionBias, [E])), [E])]);
  if (steer !== null) choice = g.op('Add', [choice, steer]);
  choice = limitToGroups(g, choice, E, r.groups, r.topkGroup, 'top2-sum');
  const sel = g.opN('TopK', [choice, g.constI([K])], 2, { axis: -1, largest: 1, sorted: 1 })[1];
  const picked = g.op('GatherElements', [scores, sel], { axis: 1 }); // [T, K] unbiased
  const sum = g.op('ReduceSum', [picked, g.constI([1])], { keepdims: 1 });
  const normed = normTopK ? g.op('Div', [picked, g.op('Add', [sum, g.constF([1e-20], [])])]) : picked;
  const logWeights = g.op('Log', [g.op('Max', [picked, g.constF([1e-30], [])])]);
  // transformers' weights are normed · routed_scaling_factor; the factor goes into the op's output scale, and the
  // reported weights stay without it (in [0, 1], the contract of expert_weights: server/model/outputCheck.ts)
  const sumNormed = g.op('ReduceSum', [normed, g.constI([1])], { keepdims: 1 });
  const outScale = r.scaling === 1 ? sumNormed : g.op('Mul', [sumNormed, g.constF([Math.fround(r.scaling)], [])]);
  return { sel, weights: normed, logWeights, outScale };
}
