// How far a quantised model is from the float32 model it was imported from: pure functions over the two runs' graph
// outputs on the same token ids (unit-tested in test/unit/fidelity.test.ts; used by test/model/quantImport.test.ts and
// bench/). Routing rows are (layer, token) pairs; next-token rows are tokens.
import { softmax } from './math';

/** Mean over rows of |A ∩ B| / k, the expert sets of fp32 (a) and quantised (b) rows of k ids. */
export function meanTopKOverlap(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>, k: number): number {
  const rows = a.length / k;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const set = new Set<number>();
    for (let j = 0; j < k; j++) set.add(Number(a[r * k + j]));
    let shared = 0;
    for (let j = 0; j < k; j++) if (set.has(Number(b[r * k + j]))) shared++;
    sum += shared / k;
  }
  return rows ? sum / rows : 1;
}

/** The gap between the k-th and the (k+1)-th largest of values[from, from+n): how decided a top-k choice is. */
export function topKMargin(values: ArrayLike<number>, k: number, from = 0, n = values.length - from): number {
  if (k >= n) return Infinity;
  const sorted = Array.from({ length: n }, (_, i) => values[from + i]).sort((x, y) => y - x);
  return sorted[k - 1] - sorted[k];
}

/** Expert groups of a group-limited router (DeepSeek-V2): the choice is among the best `topkGroup` of `groups`. */
export interface ExpertGroups {
  groups: number;
  topkGroup: number;
}

/**
 * The margin of a group-limited top-k (each group scored by its best value, the k chosen among the kept groups' values):
 * the smaller of the gap between the last kept and the first dropped group and the top-k margin among the kept
 * experts — how far the choice is from another one, on either decision.
 */
export function groupedTopKMargin(values: ArrayLike<number>, k: number, g: ExpertGroups): number {
  const n = values.length;
  const size = n / g.groups;
  const best = Array.from({ length: g.groups }, (_, j) => Math.max(...Array.from({ length: size }, (_, i) => values[j * size + i])));
  const order = best.map((v, j) => [v, j] as const).sort((x, y) => y[0] - x[0]);
  const groupGap = g.topkGroup < g.groups ? order[g.topkGroup - 1][0] - order[g.topkGroup][0] : Infinity;
  const kept = order.slice(0, g.topkGroup).flatMap(([, j]) => Array.from({ length: size }, (_, i) => values[j * size + i]));
  return Math.min(groupGap, topKMargin(kept, k));
}

/**
 * Rows whose fp32 routing has a top-k margin above `margin`, and the share of them whose quantised expert set equals
 * the fp32 one (as sets: the order within top-k does not change the output). The margin is measured on the router
 * probabilities softmax(aLogits row) by default — transformers takes the top-k of those — or on the raw logits
 * (aLogits, rows × E) with space 'logit'.
 */
export function exactAgreement(aIds: ArrayLike<number | bigint>, bIds: ArrayLike<number | bigint>, aLogits: ArrayLike<number>, experts: number, k: number, margin: number, space: 'probability' | 'logit' = 'probability', groups?: ExpertGroups): { rows: number; agreement: number } {
  const rows = aIds.length / k;
  let counted = 0;
  let same = 0;
  for (let r = 0; r < rows; r++) {
    const row = space === 'logit' ? Array.from({ length: experts }, (_, i) => aLogits[r * experts + i]) : softmax(aLogits, r * experts, experts);
    const gap = groups ? groupedTopKMargin(row, k, groups) : topKMargin(row, k);
    if (!(gap > margin)) continue;
    counted++;
    const set = new Set<number>();
    for (let j = 0; j < k; j++) set.add(Number(aIds[r * k + j]));
    let all = true;
    for (let j = 0; j < k; j++) all &&= set.has(Number(bIds[r * k + j]));
    if (all) same++;
  }
  return { rows: counted, agreement: counted ? same / counted : 1 };
}

function logSoftmax(v: ArrayLike<number>, from: number, n: number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, v[from + i]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(v[from + i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = v[from + i] - lse;
  return out;
}

/** KL(P ‖ Q) in nats per row of logits (rows × vocab): P from the fp32 logits `p`, Q from the quantised `q`. */
export function klPerRow(p: ArrayLike<number>, q: ArrayLike<number>, vocab: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < p.length / vocab; r++) {
    const lp = logSoftmax(p, r * vocab, vocab);
    const lq = logSoftmax(q, r * vocab, vocab);
    let kl = 0;
    for (let i = 0; i < vocab; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
    out.push(Math.max(0, kl));
  }
  return out;
}

/** The q-quantile (0..1) of values by linear interpolation between order statistics (numpy's default). */
export function quantile(values: readonly number[], q: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((x, y) => x - y);
  const at = q * (s.length - 1);
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}

export const mean = (values: readonly number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

/** Mean |Δ| of two runs' token log-probabilities (nats), skipping `skip` leading positions (the first has none). */
export function meanAbsDelta(a: ArrayLike<number>, b: ArrayLike<number>, skip = 1): number {
  let sum = 0;
  for (let i = skip; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return a.length > skip ? sum / (a.length - skip) : 0;
}

export interface Fidelity {
  overlap: number;
  /** exact expert-set agreement where the fp32 probability margin > `margin` */
  agreement: number;
  agreementRows: number;
  /** the same with the margin on the raw router logits */
  logitAgreement: number;
  logitAgreementRows: number;
  rows: number;
  klMean: number;
  klP99: number;
  surprisalDelta: number;
}

/** Everything above from one pair of runs. */
export function fidelity(a: { ids: ArrayLike<number | bigint>; router: ArrayLike<number>; logits: ArrayLike<number>; logprobs: ArrayLike<number> }, b: { ids: ArrayLike<number | bigint>; logits: ArrayLike<number>; logprobs: ArrayLike<number> }, dims: { experts: number; k: number; vocab: number; groups?: ExpertGroups }, margin = 1e-2): Fidelity {
  const ag = exactAgreement(a.ids, b.ids, a.router, dims.experts, dims.k, margin, 'probability', dims.groups);
  const lg = exactAgreement(a.ids, b.ids, a.router, dims.experts, dims.k, margin, 'logit', dims.groups);
  const kl = klPerRow(a.logits, b.logits, dims.vocab);
  return { overlap: meanTopKOverlap(a.ids, b.ids, dims.k), agreement: ag.agreement, agreementRows: ag.rows, logitAgreement: lg.agreement, logitAgreementRows: lg.rows, rows: a.ids.length / dims.k, klMean: mean(kl), klP99: quantile(kl, 0.99), surprisalDelta: meanAbsDelta(a.logprobs, b.logprobs) };
}
