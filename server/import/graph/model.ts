// The whole decoder for every supported architecture: embeddings → N × (RMSNorm → attention → residual → RMSNorm →
// MoE block or dense MLP → residual) → RMSNorm → lm_head, with routing, router entropy and token log-probabilities as
// graph outputs so the server only copies them. Routing outputs count MoE layers only (a dense layer has no router):
// router layer l is decoder layer spec.moeLayers[l]; the KV cache has one entry per decoder layer.
import type { ModelSpec } from '../config';
import { EMBED, FINAL_NORM, LM_HEAD, layerNames } from '../tensorNames';
import { attention } from './attention';
import { latentCacheShape, mlaAttention } from './mlaAttention';
import type { GraphBuilder } from './builder';
import { linear, norm, rotary, swigluMlp } from './layers';
import { moeBlock, type RoutingOutputs } from './moeLayer';
import { slidingMask } from './slidingWindow';
import { quantEmbedding, quantLinear } from './quantLayers';
import type { WeightSource } from './weights';

/** Tensor names of the graph's inputs and outputs (written to moe.json). */
export const IO = {
  inputIds: 'input_ids',
  expertBias: 'expert_bias',
  logits: 'logits',
  routerLogits: 'router_logits',
  expertIds: 'expert_ids',
  expertWeights: 'expert_weights',
  tokenLogprobs: 'token_logprobs',
  routerEntropy: 'router_entropy',
  pastKey: 'past_key.{layer}',
  pastValue: 'past_value.{layer}',
  presentKey: 'present_key.{layer}',
  presentValue: 'present_value.{layer}',
} as const;

const at = (template: string, l: number) => template.replace('{layer}', String(l));

/** Each layer's cache: [1, heads, S, keyDim] keys and [1, heads, S, valueDim] values (latent attention: its latent and rotary key). */
export const kvCacheShape = (spec: ModelSpec): { heads: number; keyDim: number; valueDim: number } => (spec.mla ? latentCacheShape(spec.mla) : { heads: spec.kvHeads, keyDim: spec.headDim, valueDim: spec.headDim });

export interface BuildOptions {
  /** false: no expert_bias input, selection from the raw logits (the unsteered reference graph tests compare with) */
  steerable?: boolean;
  /** called after each decoder layer (progress) */
  onLayer?: (layer: number) => void;
}

export function buildModel(g: GraphBuilder, src: WeightSource, spec: ModelSpec, opts: BuildOptions = {}): void {
  const steerable = opts.steerable ?? true;
  const { hidden: H, vocab: V, experts: E, topK: K, headDim } = spec;
  const kv = kvCacheShape(spec);
  const L = spec.moeLayers.length;
  const ids = g.input({ name: IO.inputIds, elemType: 'int64', dims: [1, 'T'] });
  const bias = steerable ? g.input({ name: IO.expertBias, elemType: 'float32', dims: [L, E] }) : null;
  const pasts: [string, string][] = [];
  for (let l = 0; l < spec.layers; l++) {
    pasts.push([
      g.input({ name: at(IO.pastKey, l), elemType: 'float32', dims: [1, kv.heads, 'P', kv.keyDim] }),
      g.input({ name: at(IO.pastValue, l), elemType: 'float32', dims: [1, kv.heads, 'P', kv.valueDim] }),
    ]);
  }

  const scalar = (i: number) => g.constI([i], []);
  const T = g.op('Gather', [g.op('Shape', [ids]), scalar(1)], { axis: 0 });
  const P = g.op('Gather', [g.op('Shape', [pasts[0][0]]), scalar(2)], { axis: 0 });
  const S = g.op('Add', [P, T]);
  const positions = g.op('Range', [P, S, scalar(1)]); // [T] int64
  const keyPositions = g.op('Range', [scalar(0), S, scalar(1)]); // [S]
  const allowed = g.op('LessOrEqual', [g.op('Unsqueeze', [keyPositions, g.constI([0])]), g.op('Unsqueeze', [positions, g.constI([1])])]); // [T, S]
  const ctx = { rope: rotary(g, positions, spec.rotaryDim ?? headDim, spec.ropeTheta, spec.rotary), allowed, T, allowedSliding: slidingMask(g, spec, allowed, positions, keyPositions) };

  const flatIds = g.op('Reshape', [ids, g.constI([-1])]);
  // Quantised: the table through GatherBlockQuantized; a tied lm_head gets its own MatMulNBits copy at the end (the
  // float table is kept until then only when tied).
  let tiedTable: Float32Array | null = null;
  let embed = '';
  let x: string;
  if (g.quant) {
    const table = src.read(EMBED, [V, H]);
    if (spec.tied) tiedTable = table;
    if (g.quant.embeddings === 'float') x = g.op('Gather', [g.weight(EMBED, [V, H], table), flatIds], { axis: 0 });
    else x = quantEmbedding(g, EMBED, table, V, H, flatIds);
  } else {
    embed = g.weight(EMBED, [V, H], src.read(EMBED, [V, H]));
    x = g.op('Gather', [embed, flatIds], { axis: 0 }); // [T, H]
  }
  if (spec.embeddingMultiplier !== undefined && spec.embeddingMultiplier !== 1) x = g.op('Mul', [x, g.constF([Math.fround(spec.embeddingMultiplier)], [])]);
  const residual = (block: string) => (spec.residualMultiplier !== undefined && spec.residualMultiplier !== 1 ? g.op('Mul', [block, g.constF([Math.fround(spec.residualMultiplier)], [])]) : block);
  const routing: RoutingOutputs[] = [];
  for (let l = 0; l < spec.layers; l++) {
    const n = layerNames(spec, l);
    const a = (spec.mla ? mlaAttention : attention)(g, src, spec, n, norm(g, src, spec, x, n.inputNorm, H), ctx, pasts[l][0], pasts[l][1]);
    g.output(a.presentKey, { name: at(IO.presentKey, l), elemType: 'float32', dims: [1, kv.heads, 'S', kv.keyDim] });
    g.output(a.presentValue, { name: at(IO.presentValue, l), elemType: 'float32', dims: [1, kv.heads, 'S', kv.valueDim] });
    x = g.op('Add', [x, residual(a.out)]);
    const h = norm(g, src, spec, x, n.postNorm, H);
    const m = spec.moeLayers.indexOf(l);
    let out: string;
    if (m >= 0) {
      const layerBias = bias === null ? null : g.op('Gather', [bias, scalar(m)], { axis: 0 });
      const block = moeBlock(g, src, spec, n, h, layerBias);
      routing.push(block.routing);
      out = block.out;
    } else {
      out = swigluMlp(g, src, h, { gate: n.mlpGate, up: n.mlpUp, down: n.mlpDown }, H, spec.denseWidth);
    }
    x = g.op('Add', [x, residual(out)]);
    opts.onLayer?.(l);
  }
  const final = norm(g, src, spec, x, FINAL_NORM, H);
  let logits2d = !spec.tied
    ? linear(g, src, final, LM_HEAD, V, H, spec.lmHeadBias ? 'lm_head.bias' : undefined)
    : tiedTable ? quantLinear(g, `${EMBED}.lm_head`, tiedTable, V, H, final) : g.op('Gemm', [final, embed], { transB: 1 });
  if (spec.logitsScaling !== undefined && spec.logitsScaling !== 1) logits2d = g.op('Div', [logits2d, g.constF([Math.fround(spec.logitsScaling)], [])]); // Granite
  g.output(g.op('Reshape', [logits2d, g.constI([1, -1, V])]), { name: IO.logits, elemType: 'float32', dims: [1, 'T', V] });

  const stack = (pick: (r: RoutingOutputs) => string) => g.op('Concat', routing.map((r) => g.op('Unsqueeze', [pick(r), g.constI([0])])), { axis: 0 });
  g.output(stack((r) => r.routerLogits), { name: IO.routerLogits, elemType: 'float32', dims: [L, 'T', E] });
  g.output(stack((r) => r.expertIds), { name: IO.expertIds, elemType: 'int64', dims: [L, 'T', K] });
  g.output(stack((r) => r.expertWeights), { name: IO.expertWeights, elemType: 'float32', dims: [L, 'T', K] });
  g.output(stack((r) => r.entropy), { name: IO.routerEntropy, elemType: 'float32', dims: [L, 'T'] });

  // token_logprobs[t] = log p(ids[t] | ids[<t]) from the previous position's logits; 0 for the first token of a call.
  // Row t's logit at the next id minus row t's log-sum-exp: the [T, V] LogSoftmax and its [T-1, V] slice are never
  // written (one 512-token window at a 50k vocabulary, shared 2-core machine: LogSoftmax 199 ms plus a 100 MB copy
  // before, ReduceLogSumExp 120 ms now).
  const unsq = (v: string) => g.op('Unsqueeze', [v, g.constI([0])]);
  const lse = g.op('ReduceLogSumExp', [logits2d], { axes: [1], keepdims: 1 }); // [T, 1]
  const nextIds = g.op('Concat', [g.op('Slice', [flatIds, g.constI([1]), unsq(T), g.constI([0])]), g.constI([0])], { axis: 0 }); // [T]; the last is a placeholder
  const nextLp = g.op('Sub', [g.op('GatherElements', [logits2d, g.op('Unsqueeze', [nextIds, g.constI([1])])], { axis: 1 }), lse]); // [T, 1]
  const Tm1 = g.op('Sub', [T, scalar(1)]);
  const got = g.op('Reshape', [g.op('Slice', [nextLp, g.constI([0]), unsq(Tm1), g.constI([0])]), g.constI([-1])]); // [T-1]
  const lp = g.op('Concat', [g.constF([0]), got], { axis: 0 });
  g.output(g.op('Reshape', [lp, g.constI([1, -1])]), { name: IO.tokenLogprobs, elemType: 'float32', dims: [1, 'T'] });
}
