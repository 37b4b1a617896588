// The quantised layers of `moe-lens import --quant int8|int4`: experts through com.microsoft.QMoE, projections and
// lm_head through com.microsoft.MatMulNBits, embeddings through com.microsoft.GatherBlockQuantized. Routers stay
// float32 (moeLayer.ts): the routing decision is what MoE Lens shows.
//
// What these ops do in onnxruntime-node 1.30 on CPU, float32 activations (probed with one-node graphs built with
// onnx-proto against a JS float reference of the dequantised weights, and read in
// onnxruntime/contrib_ops/cpu/moe/moe_quantization_cpu.cc):
// - QMoE inputs: 0 input, 1 router_probs, 2 fc1_experts_weights (uint8 [E, 2I, H/pack]), 3 fc1_scales ([E, 2I,
//   blocks] block-wise), 4 fc1 bias, 5 fc2_experts_weights ([E, H, I/pack]), 6 fc2_scales, 7 fc2 bias, 8–10 fc3
//   (refused on CPU), 11–13 zero points, 14 router_weights [T, E]. No zero points = symmetric with the implicit zero
//   point 128 (int8) or 8 (int4); int4 packs two values a byte, the even column in the low nibble; rows are packed
//   tight (a row narrower than block_size is one partial block). Attributes k, activation_type swiglu with
//   swiglu_fusion 1 (interleaved gate/up rows, as the float MoE op), expert_weight_bits 8 or 4, block_size,
//   normalize_routing_weights. Matched the reference of the dequantised weights to 2.6e-6 (int8) and 2.2e-6 (int4).
// - Routing: experts are the top-k of router_probs. WITHOUT router_weights the weights are always the softmax over
//   the top-k router_probs, whatever normalize_routing_weights says (both settings matched softmax-over-top-k to
//   1e-6 and missed the full-softmax probabilities by > 1) — the renormalised weights of Mixtral, wrong for OLMoE and
//   Qwen2-MoE. WITH router_weights the weights are router_weights gathered at the selected experts, divided by their
//   sum when normalize_routing_weights=1 and as they are when 0 (each matched to ≤ 6e-6, the others missed by > 1).
//   A route whose weight is ≤ 1e-8 is skipped (its contribution is below float32 resolution of the output).
//   So: router_probs = raw logits at the experts TopK(raw + bias) selected, -1e9 elsewhere (the op selects exactly
//   those); router_weights = softmax(raw) over all experts, float32; normalize_routing_weights = norm_topk_prob. The
//   op then weights experts with transformers' own gate weights, renormalised or not, under any steering.
// - MatMulNBits(A, B uint8 [N, blocks, block·bits/8], scales [N·blocks]) = A · dequant(B)ᵀ, B in nn.Linear's [out, in]
//   layout, a row padded to whole blocks. accuracy_level 0 matched the dequantised reference to 1.4e-6; level 4
//   (int8 activations) missed it by 3e-2, as much as int8 weights themselves miss fp32. int4 keeps 0 (MLAS packs
//   its weights for a float32 kernel). int8 takes 4: 1.30 has no float32 kernel for 8-bit weights and dequantises
//   the whole matrix at every call; the fidelity goals still hold (docs/IMPORT.md). Level 4 quantises each block of
//   the activations along K to int8 (scale max|a| / 127, rounded): a JS reference doing that matches it to 1e-5
//   (test/model/quantMoeBlock.test.ts).
// - Pre-packing (moe.json quantization.prePacking): MatMulNBits re-lays its weights out for MLAS at session creation,
//   a heap copy the size of the projections that replaces their mapped pages. The QMoE experts stay out of it as
//   defaulted graph inputs: pre-packing them too (OLMoE width, 4 layers, int4, 1.2 GB data file) took session
//   creation from 0.5 s to 138 s and the peak RSS of a 2-token run from 0.8 to 2.9 GB; with only MatMulNBits packed,
//   1.1 s and 0.43 GB, and the run 1.6–2.4 s instead of 5.2–6.8 s (a loaded 2-core machine).
// - GatherBlockQuantized(data uint8 [V, H·bits/8], indices, scales [V, blocks]) with gather_axis 0, quantize_axis 1,
//   bits 8 or 4 gives the dequantised rows exactly (6e-8). The embeddings are stored at 8 bits whatever --quant says:
//   a row is read per token, so fewer bits save memory but no time, and int8 embeddings keep the int4 model's error to
//   its projections and experts (fidelity table: docs/IMPORT.md).
import type { ModelSpec } from '../config';
import type { GraphBuilder } from './builder';
import { quantizeRows, type QuantOptions } from './quantize';

/** Bits of the quantised embedding table (see above). */
export const EMBEDDING_BITS = 8;

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function options(g: GraphBuilder): QuantOptions {
  if (!g.quant) throw new Error('a quantised layer in a graph built without --quant');
  return g.quant;
}

/**
 * MatMulNBits' accuracy_level per weight width (see the top of this file): int4 computes in float32 (level 0, MLAS's
 * packed fp32 kernel); int8 has no such kernel in 1.30 and dequantises the whole matrix at every call (2 tokens at
 * OLMoE width, 4 layers: 4.2 s in MatMulNBits), so it computes with int8 activations (level 4: 0.10 s).
 */
export const accuracyLevel = (bits: 4 | 8): 0 | 4 => (bits === 8 ? 4 : 0);

/** nn.Linear x @ Wᵀ (+ b) with W [outF, inF] quantised block-wise: one MatMulNBits node. */
export function quantLinear(g: GraphBuilder, name: string, W: Float32Array, outF: number, inF: number, x: string, bias?: string): string {
  const o = options(g);
  const q = quantizeRows(W, outF, inF, o, true);
  const B = g.bytes(`${name}.int${o.bits}`, [outF, q.blocksPerRow, (o.block * o.bits) / 8], 'uint8', q.data);
  const s = g.bytes(`${name}.scales`, [outF * q.blocksPerRow], 'float32', bytesOf(q.scales));
  const y = g.op('MatMulNBits', [x, B, s], { K: inF, N: outF, bits: o.bits, block_size: o.block, accuracy_level: accuracyLevel(o.bits) }, 'com.microsoft');
  return bias ? g.op('Add', [y, bias]) : y;
}

/** Rows `ids` [T] of the embedding table E [V, H], stored at EMBEDDING_BITS: one GatherBlockQuantized node. */
export function quantEmbedding(g: GraphBuilder, name: string, E: Float32Array, V: number, H: number, ids: string): string {
  const o = { bits: EMBEDDING_BITS, block: options(g).block } as const;
  const q = quantizeRows(E, V, H, o);
  const data = g.bytes(`${name}.int${o.bits}`, [V, q.bytesPerRow], 'uint8', q.data);
  const s = g.bytes(`${name}.scales`, [V, q.blocksPerRow], 'float32', bytesOf(q.scales));
  return g.op('GatherBlockQuantized', [data, ids, s], { gather_axis: 0, quantize_axis: 1, block_size: o.block, bits: o.bits }, 'com.microsoft');
}

/**
 * The experts of one MoE layer as one QMoE node. `fc1`/`fc2` yield float32 pieces of whole rows in the op's layout
 * ([2I, H] interleaved per expert, [H, I]); each is quantised and streamed to the data file, its scales kept (a few
 * MB a layer) and written after. `masked` is router_probs (raw logits at the selected experts), `probs` the full
 * softmax (router_weights).
 */
export function qmoe(g: GraphBuilder, spec: ModelSpec, names: { fc1: string; fc2: string }, pieces: { fc1: Iterable<Float32Array>; fc2: Iterable<Float32Array> }, x: string, masked: string, probs: string): string {
  const o = options(g);
  const { hidden: H, experts: E, topK: K, expertWidth: I } = spec;
  const weights = (name: string, rows: number, cols: number, src: Iterable<Float32Array>) => {
    const scales: Float32Array[] = [];
    const blocks = Math.ceil(cols / o.block);
    const quantised = function* () {
      for (const p of src) {
        const q = quantizeRows(p, p.length / cols, cols, o);
        scales.push(q.scales);
        yield q.data;
      }
    };
    const w = g.streamedBytes(`${name}.int${o.bits}`, [E, rows, (cols * o.bits) / 8], 'uint8', quantised());
    const s = g.streamedBytes(`${name}.scales`, [E, rows, blocks], 'float32', scales.map(bytesOf));
    return [w, s];
  };
  // Defaulted inputs, so that onnxruntime does not pre-pack the experts (see the top of this file).
  const [w1, s1, w2, s2] = [...weights(names.fc1, 2 * I, H, pieces.fc1), ...weights(names.fc2, H, I, pieces.fc2)].map((t) => g.defaultedInput(t));
  const swiglu = { activation_type: 'swiglu', swiglu_fusion: 1, activation_alpha: { float: 1 }, activation_beta: { float: 0 }, swiglu_limit: { float: 3.4028234663852886e38 } };
  const inputs = [x, masked, w1, s1, '', w2, s2, '', '', '', '', '', '', '', probs];
  return g.op('QMoE', inputs, { k: K, ...swiglu, expert_weight_bits: o.bits, block_size: o.block, normalize_routing_weights: spec.normTopK ? 1 : 0 }, 'com.microsoft');
}
