// One sparse MoE block: the router, steering, and every routed expert inside ONE onnxruntime `com.microsoft.MoE` node.
//
// What the MoE contrib op does in onnxruntime-node 1.30 on CPU, float32 (probed with a one-node graph against a plain
// JS reference, and read in onnxruntime/contrib_ops/cpu/moe/moe_cpu.cc):
// - inputs: input [T, H], router_probs [T, E] (logits: the op takes their softmax itself), fc1_experts_weights,
//   fc1_experts_bias (optional), fc2_experts_weights, fc2_experts_bias (optional), fc3_experts_weights (refused on CPU:
//   "FC3 is not implemented for CPU MoE"; with swiglu_fusion=0 or 2 the kernel refuses to construct: "CPU MoE only
//   supports interleaved SwiGLU format. Please set swiglu_fusion=1").
// - weights are in nn.Linear's [out, in] layout per expert: fc1 [E, I, H] (silu/gelu) or [E, 2I, H] (swiglu), fc2
//   [E, H, I]. The transposed layout runs but is wrong (max |Δ| 0.8 on a random 4×3 probe).
// - routing: full softmax over router_probs, top-k by probability, weights = the probabilities, divided by their sum
//   when normalize_routing_weights=1; a route whose weight is 0 is skipped.
// - activation_type "swiglu" with swiglu_fusion=1 reads fc1's output interleaved: row 2i is the gate, 2i+1 the linear
//   part, and computes min(g, limit)·sigmoid(α·min(g, limit))·(clamp(u, ±limit) + β). Defaults are α=1, β=0,
//   limit=+∞: exactly transformers' silu(gate)·up (max |Δ| 2.4e-8 vs the JS reference). gpt-oss's variant is
//   α=1.702, β=1, swiglu_limit=7 (matched 4.6e-8 with those attributes set). We set α, β and the limit explicitly.
//   Re-probed for gpt-oss (test/model/importGptOssBlock.test.ts): a whole block with router bias, fc1/fc2 biases and
//   inputs where 19 of 270 gates exceed 7 and 39 |up| exceed 7 matches a float64 transcription of GptOssExperts within
//   2.5e-6: the op clamps the gate only from above and up on both sides, as gpt-oss does,
//   and adds fc1's bias before the activation (interleaved like its rows) and fc2's after.
//   activation_alpha/beta/swiglu_limit are FLOAT attributes (an INT value is refused at load).
// - router_probs with -1e9 outside the k selected experts and normalize_routing_weights=1 give exactly the softmax over
//   the selected experts (matched the unmasked op to 2.4e-8).
//
// Steering: sel = TopK(raw + expert_bias[l]) chooses; the op is fed raw logits at the selected experts and -1e9
// elsewhere, so it weights them by softmax over the selected raw logits = transformers' renormalised top-k weights
// (Mixtral; norm_topk_prob=true). Without renormalisation (OLMoE, Qwen2-MoE, norm_topk_prob=false) the weights are the
// full-softmax probabilities p_i = (that) · S with S = Σ_selected p_j, and the op's output is linear in its weights,
// so the op's output is multiplied by S per token. A disabled expert (bias -1e9) is never in sel; a forced one (+1e9)
// always is and keeps the weight its raw logit earns; bias 0 adds exact zeros, so selection is bit-identical.
//
// GLM-4.5 and DeepSeek-V3 (sigmoid scores, e_score_correction_bias and groups for the choice, unbiased scores as
// weights): the op is fed log(score) at the chosen experts and its output multiplied by the weights' sum
// (graph/groupedSigmoidRouter.ts). DeepSeek-V2 (softmax, group-limited, not renormalised, × routed_scaling_factor):
// the choice is limited to the kept groups (graph/expertGroups.ts) and the output multiplied by S · the factor.
//
// Quantised (--quant): the experts are one com.microsoft.QMoE node instead (quantLayers.ts, with what the kernel does
// on CPU): the same masked router input, plus router_weights = the full softmax, so the op applies transformers' gate
// weights itself (renormalised or not) and no rescaling by S follows. The router stays float32.
import type { ModelSpec } from '../config';
import type { LayerNames } from '../tensorNames';
import type { AttrValue, GraphBuilder } from './builder';
import { gptOssExperts } from './gptOssExperts';
import { limitToGroups } from './expertGroups';
import { groupedSigmoidRouter } from './groupedSigmoidRouter';
import { linear, swigluMlp } from './layers';
import { sparsemixer } from './sparsemixer';
import { qmoe } from './quantLayers';
import type { WeightSource } from './weights';

export interface RoutingOutputs {
  routerLogits: string; // [T, E] raw
  expertIds: string; // [T, K] int64
  expertWeights: string; // [T, K] the model's gate weights
  entropy: string; // [T] nats of softmax(raw)
}

/** The MoE block on x [T, H] (after post_attention_layernorm); `bias` is expert_bias[l] [E], or null for no steering. */
export function moeBlock(g: GraphBuilder, src: WeightSource, spec: ModelSpec, n: LayerNames, x: string, bias: string | null): { out: string; routing: RoutingOutputs } {
  const { hidden: H, experts: E, topK: K, expertWidth: I } = spec;
  const raw = linear(g, src, x, n.router, E, H, spec.routerBias ? n.routerBias : undefined, true); // [T, E] (gpt-oss: with its bias), float32 even in a quantised graph
  const scores = bias === null ? raw : g.op('Add', [raw, bias]);
  // Phi-3.5-MoE: the sparsemixer chooses and weighs (graph/sparsemixer.ts); the op is then fed log(weight) at the
  // chosen experts, so its softmax over them gives weight / S and the output is multiplied by S as below.
  const mixer = spec.sparsemixerJitter !== undefined ? sparsemixer(g, raw, scores, spec.sparsemixerJitter) : null;
  // GLM-4.5, DeepSeek-V3: sigmoid scores, chosen with e_score_correction_bias within the best groups
  // (graph/groupedSigmoidRouter.ts); the op is fed log(score) at the chosen experts and its output multiplied by the
  // true weights' sum
  const glm = spec.groupedSigmoid ? groupedSigmoidRouter(g, src, raw, bias, n.routerScoreBias!, spec.groupedSigmoid, E, K, spec.normTopK) : null;
  // DeepSeek-V2: softmax top-k within the groups whose best probability is highest (graph/expertGroups.ts); softmax
  // is monotonic per token, so the groups and experts are ranked on the (steered) logits alike
  const softmaxGroups = spec.groupedSoftmax;
  const choice = softmaxGroups ? limitToGroups(g, scores, E, softmaxGroups.groups, softmaxGroups.topkGroup, 'max') : scores;
  const sel = glm?.sel ?? mixer?.sel ?? g.opN('TopK', [choice, g.constI([K])], 2, { axis: -1, largest: 1, sorted: 1 })[1];
  // Gate weights as transformers computes them: softmax over all experts in float32, the selected probabilities,
  // renormalised to sum 1 when the model does.
  const probs = g.op('Softmax', [raw], { axis: -1 });
  let weights: string;
  let opInput: string; // the op's router input at the selected experts
  let scale: string | null; // what the op's output is multiplied by, per token
  if (glm) {
    ({ weights, logWeights: opInput, outScale: scale } = glm);
  } else {
    const picked = mixer?.weights ?? g.op('GatherElements', [probs, sel], { axis: 1 }); // [T, K]
    const mass = g.op('ReduceSum', [picked, g.constI([1])], { keepdims: 1 }); // [T, 1] = S
    weights = spec.normTopK ? g.op('Div', [picked, mass]) : picked;
    opInput = mixer ? g.op('Log', [mixer.weights]) : g.op('GatherElements', [raw, sel], { axis: 1 });
    scale = spec.normTopK ? null : mass;
    // DeepSeek-V2: transformers' weights are these × routed_scaling_factor; the factor goes into the output scale and
    // the reported weights leave it out (as GLM-4.5's, groupedSigmoidRouter.ts)
    if (softmaxGroups && softmaxGroups.scaling !== 1) scale = g.op('Mul', [scale ?? g.constF([1], []), g.constF([Math.fround(softmaxGroups.scaling)], [])]);
  }
  const entropy = g.op('Neg', [g.op('ReduceSum', [g.op('Mul', [probs, g.op('LogSoftmax', [raw], { axis: -1 })]), g.constI([1])], { keepdims: 0 })]);

  // Router input for the op: raw logits (or the log-weights above) at the selected experts, -1e9 elsewhere.
  const floor = g.op('ConstantOfShape', [g.op('Shape', [raw])], {});
  const masked = g.op('ScatterElements', [g.op('Add', [floor, g.constF([-1e9], [])]), sel, opInput], { axis: 1 });
  const gelu = spec.expertActivation === 'gelu';
  let out: string;
  if (g.quant) {
    // quantPlan.checkBlocks refuses what QMoE is not checked for (gpt-oss experts, sparsemixer, GLM's router, GELU)
    // before import
    const pieces = { fc1: expertPieces(src, n, E, I, H, 'fc1'), fc2: expertPieces(src, n, E, I, H, 'fc2') };
    out = qmoe(g, spec, { fc1: `${n.router}.fc1_interleaved`, fc2: `${n.router}.fc2` }, pieces, x, masked, probs);
    // DeepSeek-V2: the op applies the full softmax's weights; routed_scaling_factor multiplies their sum
    if (softmaxGroups && softmaxGroups.scaling !== 1) out = g.op('Mul', [out, g.constF([Math.fround(softmaxGroups.scaling)], [])]);
  } else {
    out = floatMoe(g, src, spec, n, x, masked, scale, gelu);
  }
  if (spec.sharedWidth > 0) {
    const shared = swigluMlp(g, src, x, { gate: n.sharedGate, up: n.sharedUp, down: n.sharedDown }, H, spec.sharedWidth);
    if (spec.ungatedShared) {
      // GLM-4.5, DeepSeek: out += shared_experts(x) (Glm4MoeMoE.forward, DeepseekV3MoE.forward)
      out = g.op('Add', [out, shared]);
    } else {
      // Qwen2-MoE: out += sigmoid(shared_expert_gate(x)) · shared_expert(x)
      const gate = g.op('Sigmoid', [linear(g, src, x, n.sharedExpertGate, 1, H, undefined, true)]);
      out = g.op('Add', [out, g.op('Mul', [gate, shared])]);
    }
  }
  return { out, routing: { routerLogits: raw, expertIds: sel, expertWeights: weights, entropy } };
}

/** The float experts: one com.microsoft.MoE node, its output times `scale` (S when the model does not renormalise). */
function floatMoe(g: GraphBuilder, src: WeightSource, spec: ModelSpec, n: LayerNames, x: string, masked: string, scale: string | null, gelu: boolean): string {
  const { hidden: H, experts: E, topK: K, expertWidth: I } = spec;
  // gpt-oss: biased experts from its MXFP4 or bf16 tensors (graph/gptOssExperts.ts)
  const biased = spec.expertBiases ? gptOssExperts(g, src, n, E, I, H) : null;
  const fc1 = biased?.fc1 ?? g.streamedWeight(`${n.router}.fc1${gelu ? '' : '_interleaved'}`, [E, (gelu ? 1 : 2) * I, H], expertPieces(src, n, E, I, H, gelu ? 'fc1-gate-only' : 'fc1'));
  const fc2 = biased?.fc2 ?? g.streamedWeight(`${n.router}.fc2`, [E, H, I], expertPieces(src, n, E, I, H, 'fc2'));
  const sw = spec.swiglu ?? { alpha: 1, beta: 0, limit: 3.4028234663852886e38 };
  const activation: Record<string, AttrValue> = gelu
    ? { activation_type: 'gelu' } // the op's gelu is the tanh approximation (moe_utils.cc), not torch's default erf
    : { activation_type: 'swiglu', swiglu_fusion: 1, activation_alpha: { float: sw.alpha }, activation_beta: { float: sw.beta }, swiglu_limit: { float: sw.limit } };
  const out = g.op('MoE', biased ? [x, masked, fc1, biased.fc1Bias, fc2, biased.fc2Bias] : [x, masked, fc1, '', fc2], { k: K, ...activation, normalize_routing_weights: 1 }, 'com.microsoft');
  return scale === null ? out : g.op('Mul', [out, scale]);
}

/**
 * The expert weights one expert at a time, in the op's layout: fc1 [2I, H] with gate and up rows interleaved, fc2
 * [H, I]. Reads the hub's per-expert tensors, or transformers 5's fused ones (one slice of them per expert).
 */
function* expertPieces(src: WeightSource, n: LayerNames, E: number, I: number, H: number, which: 'fc1' | 'fc2' | 'fc1-gate-only'): Generator<Float32Array> {
  if (which === 'fc1-gate-only') {
    for (let e = 0; e < E; e++) yield src.read(n.expertGate(e), [I, H]);
    return;
  }
  const fused = !src.has(n.expertGate(0)) && src.has(n.fusedGateUp);
  if (fused) {
    if (which === 'fc2') {
      yield src.read(n.fusedDown, [E, H, I]);
      return;
    }
    const all = src.read(n.fusedGateUp, [E, 2 * I, H]); // per expert: gate rows then up rows (chunk(2))
    for (let e = 0; e < E; e++) yield interleave(all.subarray(e * 2 * I * H, (e * 2 + 1) * I * H), all.subarray((e * 2 + 1) * I * H, (e + 1) * 2 * I * H), I, H);
    return;
  }
  for (let e = 0; e < E; e++) {
    if (which === 'fc2') yield src.read(n.expertDown(e), [H, I]);
    else yield interleave(src.read(n.expertGate(e), [I, H]), src.read(n.expertUp(e), [I, H]), I, H);
  }
}

function interleave(gate: Float32Array, up: Float32Array, I: number, H: number): Float32Array {
  const out = new Float32Array(2 * I * H);
  for (let i = 0; i < I; i++) {
    out.set(gate.subarray(i * H, (i + 1) * H), 2 * i * H);
    out.set(up.subarray(i * H, (i + 1) * H), (2 * i + 1) * H);
  }
  return out;
}

export { swigluMlp };
