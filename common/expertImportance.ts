// Expert importance on a corpus, per layer × expert (docs/PRUNING.md): frequency (tokens that selected the expert),
// weight (summed gate weight), reap (REAP: mean over the tokens routed to the expert of gate weight × ‖expert
// output‖) and ΔP (SteerMoE's contrastive share difference). Pure: the routing and the expert-output norms come in.
import { layerMajorIndex } from './routingLayout';
import type { ImportanceCriterion } from './pruneProtocol';

export interface ImportanceCounts {
  layers: number;
  experts: number;
  tokens: number;
  /** [l*E+e] tokens whose top-k at layer l held e */
  freq: Float64Array;
  /** [l*E+e] Σ gate weight */
  weight: Float64Array;
  /** [l*E+e] Σ gate weight × ‖expert output‖ (only when norms were given) */
  reapSum: Float64Array;
}

export const emptyImportance = (layers: number, experts: number): ImportanceCounts => ({
  layers,
  experts,
  tokens: 0,
  freq: new Float64Array(layers * experts),
  weight: new Float64Array(layers * experts),
  reapSum: new Float64Array(layers * experts),
});

/**
 * Adds T tokens of routing, layer-major as a graph gives it: ids/weights/norms[(l*T+t)*K+k]. `norms` (‖expert
 * output‖ of each selected expert) may be null when only frequency and weight are wanted.
 */
export function addImportance(into: ImportanceCounts, T: number, K: number, ids: ArrayLike<number>, weights: ArrayLike<number>, norms: ArrayLike<number> | null): void {
  const { layers: L, experts: E } = into;
  if (ids.length !== L * T * K || weights.length !== ids.length || (norms && norms.length !== ids.length)) throw new RangeError(`routing arrays must hold ${L}·${T}·${K} values`);
  for (let l = 0; l < L; l++) {
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < K; k++) {
        const i = layerMajorIndex(T, l, t, K, k);
        const at = l * E + ids[i];
        into.freq[at]++;
        into.weight[at] += weights[i];
        if (norms) into.reapSum[at] += weights[i] * norms[i];
      }
    }
  }
  into.tokens += T;
}

/** scores[l][e] by a criterion; deltaP needs the second set's counts (P_A − P_B of the expert being selected). */
export function importanceScores(c: ImportanceCounts, criterion: ImportanceCriterion, contrast?: ImportanceCounts): number[][] {
  const { layers: L, experts: E } = c;
  const out: number[][] = [];
  for (let l = 0; l < L; l++) {
    const row: number[] = [];
    for (let e = 0; e < E; e++) {
      const i = l * E + e;
      if (criterion === 'frequency') row.push(c.freq[i]);
      else if (criterion === 'weight') row.push(c.weight[i]);
      else if (criterion === 'reap') row.push(c.freq[i] ? c.reapSum[i] / c.freq[i] : 0);
      else {
        if (!contrast) throw new RangeError('deltaP needs a second set of texts (--contrast)');
        row.push((c.tokens ? c.freq[i] / c.tokens : 0) - (contrast.tokens ? contrast.freq[i] / contrast.tokens : 0));
      }
    }
    out.push(row);
  }
  return out;
}

/** Experts kept per layer for a fraction of E: round(f·E), at least topK (the router must still find k experts). */
export function keepCount(fraction: number, experts: number, topK: number): number {
  return Math.min(experts, Math.max(topK, Math.round(fraction * experts)));
}

/** Per layer, the `keep` experts with the highest scores (ties: the lower index), in ascending expert order. */
export function keptByScore(scores: readonly (readonly number[])[], keep: number): number[][] {
  return scores.map((row) =>
    row
      .map((s, e) => ({ s, e }))
      .sort((a, b) => b.s - a.s || a.e - b.e)
      .slice(0, keep)
      .map((x) => x.e)
      .sort((a, b) => a - b),
  );
}

/** Per layer, `keep` experts drawn uniformly without replacement with `random` in [0, 1). */
export function keptAtRandom(layers: number, experts: number, keep: number, random: () => number): number[][] {
  const out: number[][] = [];
  for (let l = 0; l < layers; l++) {
    const all = [...Array(experts).keys()];
    for (let i = experts - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
    out.push(all.slice(0, keep).sort((a, b) => a - b));
  }
  return out;
}

/** The (layer, expert) pairs not in `kept`: the experts pruning removes, as disable steering. */
export function prunedPairs(kept: readonly (readonly number[])[], experts: number): [number, number][] {
  const out: [number, number][] = [];
  kept.forEach((k, l) => {
    const set = new Set(k);
    for (let e = 0; e < experts; e++) if (!set.has(e)) out.push([l, e]);
  });
  return out;
}

/**
 * The smallest kept fraction whose bits per token rose by at most `tolerance` (relative) over the baseline, walking
 * down from the largest fraction and stopping at the first that rose more (a later dip below is not trusted).
 */
export function pruningThreshold(points: readonly { keptFraction: number; bitsPerToken: number }[], baseline: number, tolerance: number): number {
  let best = 1;
  for (const p of [...points].sort((a, b) => b.keptFraction - a.keptFraction)) {
    if (p.bitsPerToken <= baseline * (1 + tolerance)) best = Math.min(best, p.keptFraction);
    else break;
  }
  return best;
}

export function meanSd(values: readonly number[]): { mean: number; sd: number } {
  if (!values.length) return { mean: NaN, sd: NaN };
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd };
}
