// Contrastive expert search (SteerMoE, arXiv 2509.09660): the experts whose activation differs most between two sets
// of texts, by the risk difference ΔP_i = P(expert i active | A) − P(expert i active | B) per layer. Beside the result
// goes a random-expert baseline (MoTE: switching off the found experts must matter more than switching off as many
// random ones), so a user can tell a real finding from noise. See README.md, "Steering experts".
import type { ContrastiveResult, ContrastiveRow, SteeringRule } from '../../common/protocol';
import { DEFAULT_SETTINGS } from '../../common/defaults';
import { slotIndex } from '../../common/routingLayout';
import { analyzeText } from '../analysis/analyzer';
import type { ModelBackend } from '../model/backend';
import { mulberry32, sampleDistinct } from './prng';

/** Per (layer, expert): how many tokens had the expert among their top-k at that layer, out of `tokens`. */
export interface ActivationCounts {
  layers: number;
  experts: number;
  tokens: number;
  /** [l*E+e] */
  active: Float64Array;
}

export const emptyCounts = (layers: number, experts: number): ActivationCounts => ({ layers, experts, tokens: 0, active: new Float64Array(layers * experts) });

/** Adds one text's routing (token-major top-k ids, common/routingLayout.ts) to `into`. */
export function addActivations(into: ActivationCounts, experts: ArrayLike<number>, tokens: number, topK: number): ActivationCounts {
  const { layers: L, experts: E } = into;
  if (experts.length !== tokens * L * topK) throw new RangeError(`routing has ${experts.length} expert ids, expected ${tokens}·${L}·${topK}`);
  for (let t = 0; t < tokens; t++) {
    for (let l = 0; l < L; l++) {
      const base = slotIndex({ layers: L, topK }, t, l);
      for (let k = 0; k < topK; k++) {
        const e = experts[base + k];
        let repeated = false; // an expert counts once per token even if a graph listed it twice
        for (let j = 0; j < k; j++) repeated ||= experts[base + j] === e;
        if (!repeated) into.active[l * E + e]++;
      }
    }
  }
  into.tokens += tokens;
  return into;
}

/** P(expert active) per [l*E+e]: the share of tokens whose top-k at layer l contains e (0 for no tokens). */
export function activationShares(c: ActivationCounts): Float64Array {
  return c.active.map((x) => (c.tokens ? x / c.tokens : 0));
}

/** Every (layer, expert) by ΔP = P_A − P_B, largest first (ties: lower layer, then lower expert). Pure. */
export function rankByDeltaP(a: ActivationCounts, b: ActivationCounts, labels?: readonly (readonly string[])[]): ContrastiveRow[] {
  if (a.layers !== b.layers || a.experts !== b.experts) throw new RangeError('the two sets were routed by different model shapes');
  const pa = activationShares(a);
  const pb = activationShares(b);
  const rows: ContrastiveRow[] = [];
  for (let l = 0; l < a.layers; l++) {
    for (let e = 0; e < a.experts; e++) {
      const i = l * a.experts + e;
      const row: ContrastiveRow = { layer: l, expert: e, pA: pa[i], pB: pb[i], deltaP: pa[i] - pb[i] };
      const label = labels?.[l]?.[e];
      if (label) row.label = label;
      rows.push(row);
    }
  }
  return rows.sort((x, y) => y.deltaP - x.deltaP || x.layer - y.layer || x.expert - y.expert);
}

/**
 * "disable" rules for the first n (layer, expert) pairs in order, skipping pairs whose layer already lost all but topK
 * experts: the router must still find topK selectable experts in every layer.
 */
export function disableRules(pairs: readonly { layer: number; expert: number }[], n: number, shape: { layers: number; experts: number; topK: number }): SteeringRule[] {
  const off = new Array<number>(shape.layers).fill(0);
  const rules: SteeringRule[] = [];
  for (const p of pairs) {
    if (rules.length >= n) break;
    if (off[p.layer] >= shape.experts - shape.topK) continue;
    off[p.layer]++;
    rules.push({ layer: p.layer, expert: p.expert, mode: 'disable' });
  }
  return rules;
}

/** n random (layer, expert) pairs, uniform over all pairs, with the same keep-topK-per-layer limit. */
export function randomDisableRules(n: number, shape: { layers: number; experts: number; topK: number }, random: () => number): SteeringRule[] {
  const all = shape.layers * shape.experts;
  const order = sampleDistinct(all, all, random).map((i) => ({ layer: Math.floor(i / shape.experts), expert: i % shape.experts }));
  return disableRules(order, n, shape);
}

export interface Spread {
  mean: number;
  /** sample standard deviation (0 for fewer than two values) */
  std: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  if (!values.length) return { mean: NaN, std: NaN, min: NaN, max: NaN };
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const varSum = values.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { mean, std: values.length > 1 ? Math.sqrt(varSum / (values.length - 1)) : 0, min: Math.min(...values), max: Math.max(...values) };
}

export interface ContrastiveOptions {
  /** experts to switch off for the target measure (default 8) */
  n?: number;
  /** random draws of n experts for the baseline (default 5) */
  randomDraws?: number;
  /** seed of the random draws (default 0) */
  seed?: number;
  /** tokens analysed per text at most (default moeLens.maxTokens's) */
  maxTokens?: number;
  labels?: readonly (readonly string[])[];
  isCancelled?: () => boolean;
}

interface SetRouting {
  counts: ActivationCounts;
  surprisalSum: number;
  /** tokens that have a prefix in their window (the first token of a window has no prediction) */
  predicted: number;
}

async function routeSet(session: ModelBackend, texts: readonly string[], rules: readonly SteeringRule[], opts: ContrastiveOptions): Promise<SetRouting> {
  const { layers: L, experts: E, topK: K, contextLength: C } = session.info;
  const out: SetRouting = { counts: emptyCounts(L, E), surprisalSum: 0, predicted: 0 };
  for (const text of texts) {
    const r = await analyzeText(session, text, 0, { maxTokens: opts.maxTokens ?? DEFAULT_SETTINGS.maxTokens, rules, isCancelled: opts.isCancelled });
    addActivations(out.counts, r.experts, r.tokens, K);
    for (let t = 0; t < r.tokens; t++) {
      if (t % C === 0) continue;
      out.surprisalSum += r.surprisal[t];
      out.predicted++;
    }
  }
  return out;
}

const measureOf = (a: SetRouting, b: SetRouting): number => a.surprisalSum / Math.max(1, a.predicted) - b.surprisalSum / Math.max(1, b.predicted);

/** ΔP ranking of every expert for sets A and B (unsteered routing), and the target measure under top-n vs random. */
export async function findContrastiveExperts(session: ModelBackend, setA: readonly string[], setB: readonly string[], opts: ContrastiveOptions = {}): Promise<ContrastiveResult> {
  const { layers: L, experts: E, topK: K } = session.info;
  const n = opts.n ?? 8;
  const draws = opts.randomDraws ?? 5;
  const seed = opts.seed ?? 0;
  const limit = L * (E - K);
  if (!(Number.isInteger(n) && n >= 1 && n <= limit)) throw new RangeError(`n must be an integer from 1 to ${limit} (each layer keeps ${K} experts), not ${n}`);
  if (!(Number.isInteger(draws) && draws >= 0 && draws <= 100)) throw new RangeError(`randomDraws must be an integer from 0 to 100, not ${draws}`);
  if (!setA.some((t) => t.length) || !setB.some((t) => t.length)) throw new RangeError('both sets need at least one non-empty text');
  const baseA = await routeSet(session, setA, [], opts);
  const baseB = await routeSet(session, setB, [], opts);
  const rows = rankByDeltaP(baseA.counts, baseB.counts, opts.labels);
  const disable = disableRules(rows, n, session.info);
  const measure = async (rules: readonly SteeringRule[]) => measureOf(await routeSet(session, setA, rules, opts), await routeSet(session, setB, rules, opts));
  const none = measureOf(baseA, baseB);
  const topN = await measure(disable);
  const random: number[] = [];
  const rand = mulberry32(seed);
  for (let r = 0; r < draws; r++) random.push(await measure(randomDisableRules(n, session.info, rand)));
  const randomSpread = spread(random);
  return {
    rows,
    tokens: { a: baseA.counts.tokens, b: baseB.counts.tokens },
    disable,
    mostNegative: rows.slice(-n).reverse(),
    measure: { none, topN, random, randomSpread, effectTopN: topN - none, effectRandom: randomSpread.mean - none },
    n,
    seed,
  };
}
