// Per-layer routing statistics over one or more routed texts: pure, unit-tested (test/unit/routingStats.test.ts).
// The CLI (`moe-lens stats`), the moeLens/stats request and the panel's Statistics view all use this one
// accumulator, so their numbers are the same by construction.
//
// Sources of the formulas (shared/RESEARCH.md):
// - load f_i, meanProb p_i, lbl = E·Σ f_i·p_i: Switch Transformer (Fedus et al. 2021, eq. 4) and "Demons in the
//   Detail" (Qiu et al. 2025) for balance over a whole corpus; 1.0 at perfect balance.
// - deadExperts (f_i = 0): pruning candidates (MC-SMoE, MoE-Pruner, STUN).
// - top1Repeat vs top1RepeatChance: Mixtral of Experts (Jiang et al. 2024) §5, Table 5 — consecutive tokens assigned
//   the same expert, against Σ q_e², what independent draws from the top-1 shares q would give.
// - tokenIdConsistency: OpenMoE (Xue et al. 2024) "context-independent specialisation" — routing decided by the token
//   id; OLMoE (Muennighoff et al. 2024) §5 vocabulary specialisation.
// - meanEntropy: router entropy −Σ p ln p of the router softmax, nats.
// p_i and the entropy both read softmax(raw router logits), whatever the manifest's router.function: for a
// sigmoid router (DeepSeek-V3) that is the softmax of its logits, not its normalised sigmoid affinities.

import { layerIndex, slotIndex } from './routingLayout';
import { notRecordedSet } from './routingSource';

/** One routed text as the statistics need it. Token-major arrays as in RoutingResult (common/routingLayout.ts). */
export interface StatsInput {
  ids: ArrayLike<number>;
  experts: ArrayLike<number>;
  /** gate weights, same layout as experts; null/absent: top-1 is the first id of each row (the router's own order) */
  weights?: ArrayLike<number> | null;
  /** router entropy per token and layer (nats), T*L; null/absent when the source does not carry it */
  entropy?: ArrayLike<number> | null;
  /** Σ over this text's recorded tokens of the router's probability per expert, [L*E]; null/absent when unknown */
  probSums?: ArrayLike<number> | null;
  /** token indices whose routing was not recorded (a trace's prefix-cached positions): left out of every count */
  notRecorded?: readonly number[];
}

export interface StatsShape {
  layers: number;
  experts: number;
  topK: number;
}

/** Per-layer statistics; JSON names are a public contract (README, `moe-lens stats --json`). */
export interface LayerStats {
  /** share of the layer's top-k slots taken by each expert (f_i), length E, sums to 1 */
  load: number[];
  /** mean router probability per expert (p_i), length E; null when a source carried no router probabilities */
  meanProb: number[] | null;
  /** E·Σ f_i·p_i (1 = balanced); null with meanProb */
  lbl: number | null;
  /** experts with no slot at this layer */
  deadExperts: number[];
  /** share of consecutive token pairs (within a text) whose top-1 expert is the same; null when there is no pair */
  top1Repeat: number | null;
  /** Σ_e q_e², q_e the share of tokens whose top-1 is e: top1Repeat if tokens were routed independently */
  top1RepeatChance: number;
  /** Σ_id max_e n(id,e) / Σ_id n(id) over token ids seen at least twice (n counts top-1); null when no id repeats */
  tokenIdConsistency: number | null;
  /** mean router entropy, nats; null when a source carried no entropy */
  meanEntropy: number | null;
}

/**
 * Index (0..K-1) of the top-1 expert in a token's row at one layer: the highest gate weight; ties go to the earlier
 * position (the router's own order, best first in the embedded model's top-k), and without weights (an engine
 * trace) the first position.
 */
export function top1Slot(weights: ArrayLike<number> | null | undefined, base: number, K: number): number {
  if (!weights) return 0;
  let best = 0;
  for (let k = 1; k < K; k++) if (weights[base + k] > weights[base + best]) best = k;
  return best;
}

/** Accumulates routed texts; `layers()` gives the statistics of everything added so far. */
export class RoutingStatsAccumulator {
  private readonly slots: Float64Array;
  private readonly top1: Float64Array;
  private readonly probSums: Float64Array;
  private readonly entropySums: Float64Array;
  private readonly pairs: Float64Array;
  private readonly repeats: Float64Array;
  /** per layer: token id -> top-1 counts per expert */
  private readonly byId: Map<number, Float64Array>[];
  private recorded = 0;
  private withProbs = true;
  private withEntropy = true;

  constructor(readonly shape: StatsShape) {
    const { layers: L, experts: E } = shape;
    this.slots = new Float64Array(L * E);
    this.top1 = new Float64Array(L * E);
    this.probSums = new Float64Array(L * E);
    this.entropySums = new Float64Array(L);
    this.pairs = new Float64Array(L);
    this.repeats = new Float64Array(L);
    this.byId = Array.from({ length: L }, () => new Map<number, Float64Array>());
  }

  /** Tokens counted so far (recorded ones only). */
  get tokens(): number {
    return this.recorded;
  }

  add(input: StatsInput): void {
    const { layers: L, experts: E, topK: K } = this.shape;
    const T = input.ids.length;
    if (input.experts.length !== T * L * K) throw new RangeError(`experts has ${input.experts.length} values, expected T·L·K = ${T}·${L}·${K}`);
    const skip = notRecordedSet(input);
    if (!input.probSums) this.withProbs = false;
    else for (let i = 0; i < L * E; i++) this.probSums[i] += input.probSums[i];
    if (!input.entropy) this.withEntropy = false;
    let prevTop: Int32Array | undefined; // top-1 per layer of the previous recorded token, when it is t-1
    for (let t = 0; t < T; t++) {
      if (skip.has(t)) {
        prevTop = undefined;
        continue;
      }
      this.recorded++;
      const top = new Int32Array(L);
      for (let l = 0; l < L; l++) {
        const base = slotIndex(this.shape, t, l);
        for (let k = 0; k < K; k++) this.slots[l * E + input.experts[base + k]]++;
        const e = input.experts[base + top1Slot(input.weights, base, K)];
        top[l] = e;
        this.top1[l * E + e]++;
        if (input.entropy) this.entropySums[l] += input.entropy[layerIndex(this.shape, t, l)];
        if (prevTop) {
          this.pairs[l]++;
          if (prevTop[l] === e) this.repeats[l]++;
        }
        let counts = this.byId[l].get(input.ids[t]);
        if (!counts) this.byId[l].set(input.ids[t], (counts = new Float64Array(E)));
        counts[e]++;
      }
      prevTop = top;
    }
  }

  layers(): LayerStats[] {
    const { layers: L, experts: E, topK: K } = this.shape;
    const N = this.recorded;
    const out: LayerStats[] = [];
    for (let l = 0; l < L; l++) {
      const row = (a: Float64Array, d: number) => Array.from(a.subarray(l * E, (l + 1) * E), (x) => (d ? x / d : 0));
      const load = row(this.slots, N * K);
      const q = row(this.top1, N);
      const meanProb = this.withProbs && N ? row(this.probSums, N) : null;
      let consistent = 0;
      let repeated = 0;
      for (const counts of this.byId[l].values()) {
        let n = 0;
        let max = 0;
        for (const c of counts) {
          n += c;
          max = Math.max(max, c);
        }
        if (n >= 2) {
          consistent += max;
          repeated += n;
        }
      }
      out.push({
        load,
        meanProb,
        lbl: meanProb ? E * load.reduce((s, f, i) => s + f * meanProb[i], 0) : null,
        deadExperts: load.flatMap((f, i) => (f === 0 ? [i] : [])),
        top1Repeat: this.pairs[l] ? this.repeats[l] / this.pairs[l] : null,
        top1RepeatChance: q.reduce((s, x) => s + x * x, 0),
        tokenIdConsistency: repeated ? consistent / repeated : null,
        meanEntropy: this.withEntropy && N ? this.entropySums[l] / N : null,
      });
    }
    return out;
  }
}
