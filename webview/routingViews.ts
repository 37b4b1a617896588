// Pure computations behind the panel's charts: no DOM, no Plotly (unit-tested in test/unit/webviewViews.test.ts).
import type { ContrastiveRow, RoutingResult } from '../common/protocol';
import { HEATMAP_METRICS, metricAvailable as available } from '../common/heatmapMetrics';
import { slotIndex } from '../common/routingLayout';
import type { PanelMetric } from '../common/webviewMessages';
import { has, notRecordedSet } from '../common/routingSource';

/**
 * At most this many token columns at once. Plotly draws a 4k-token document too, but each column would be under a
 * pixel wide and a hover label per cell costs memory: a window keeps the panel quick and the columns readable.
 */
export const WINDOW = 256;

/** Where a window may start so that it holds `size` tokens (or all of a shorter document). */
export function clampWindow(start: number, tokens: number, size = WINDOW): number {
  return Math.max(0, Math.min(Math.floor(start), tokens - size));
}

/** Start of the window that shows token t a quarter of the way in (context before it, more after it). */
export function windowAround(t: number, tokens: number, size = WINDOW): number {
  return clampWindow(t - Math.floor(size / 4), tokens, size);
}

/** The tokens [start, start + n) of the window starting at (a clamped) `start`. */
export function windowRange(start: number, tokens: number, size = WINDOW): { start: number; n: number } {
  const s = clampWindow(start, tokens, size);
  return { start: s, n: Math.min(size, tokens - s) };
}

/** Whether the result carries what the metric shows (a trace has no weights or entropy). */
export function metricAvailable(r: RoutingResult, metric: PanelMetric): boolean {
  return available(HEATMAP_METRICS[metric], r);
}

/**
 * z[layer][column] for the heatmap over tokens [start, start+n). null (a gap in the chart, never a value) where the
 * source did not record the token or does not carry the metric.
 */
export function heatmapMatrix(r: RoutingResult, metric: PanelMetric, start: number, n: number): (number | null)[][] {
  const cell = HEATMAP_METRICS[metric].cell;
  const available = metricAvailable(r, metric);
  const skip = notRecordedSet(r);
  return Array.from({ length: r.model.layers }, (_, l) => Array.from({ length: n }, (_, i) => (!available || skip.has(start + i) ? null : cell(r, start + i, l))));
}

export interface LayerLoad {
  /** f_i: share of routed (token, slot) pairs that went to expert i (sums to 1) */
  f: number[];
  /**
   * p_i ≈ expert i's share of the gate weight mass. The routing result carries only the top-k weights, not the
   * router probabilities of unselected experts, so the Switch Transformer's mean router probability is approximated
   * by the mean selected gate weight share (sums to 1). null when the source has no gate weights (a trace).
   */
  p: number[] | null;
  /** LBL = N_E·Σ f_i·p_i (Switch Transformer; "Demons in the Detail"): 1 at perfect balance, N_E when one expert takes all */
  lbl: number | null;
  /** experts with f_i below DEAD_SHARE */
  dead: number[];
}

/** Below this share of routed slots an expert counts as dead (a pruning candidate: MC-SMoE, STUN). */
export const DEAD_SHARE = 0.005;

export function layerLoads(r: RoutingResult): LayerLoad[] {
  const { layers: L, experts: E, topK: K } = r.model;
  const out: LayerLoad[] = [];
  const skip = notRecordedSet(r);
  const weighted = has(r, 'weights');
  for (let l = 0; l < L; l++) {
    const f = new Array<number>(E).fill(0);
    const p = new Array<number>(E).fill(0);
    for (let t = 0; t < r.tokens; t++) {
      if (skip.has(t)) continue;
      for (let k = 0; k < K; k++) {
        const i = slotIndex(r.model, t, l, k);
        f[r.experts[i]] += 1;
        p[r.experts[i]] += r.weights[i];
      }
    }
    const slots = (r.tokens - skip.size) * K;
    const mass = p.reduce((a, b) => a + b, 0);
    const fn = f.map((v) => (slots ? v / slots : 0));
    const pn = weighted ? p.map((v) => (mass > 0 ? v / mass : 0)) : null;
    out.push({ f: fn, p: pn, lbl: pn && E * fn.reduce((s, v, i) => s + v * pn[i], 0), dead: slots ? fn.flatMap((v, i) => (v < DEAD_SHARE ? [i] : [])) : [] });
  }
  return out;
}

/** Row-normalised transition matrix of top-1 experts from layer l to l+1: m[a][b] = P(top-1 at l+1 = b | top-1 at l = a). */
export function transitions(r: RoutingResult, l: number): number[][] {
  const { layers: L, experts: E } = r.model;
  const m = Array.from({ length: E }, () => new Array<number>(E).fill(0));
  if (l < 0 || l + 1 >= L) return m;
  const skip = notRecordedSet(r);
  for (let t = 0; t < r.tokens; t++) if (!skip.has(t)) m[r.experts[slotIndex(r.model, t, l)]][r.experts[slotIndex(r.model, t, l + 1)]]++;
  return m.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return s ? row.map((v) => v / s) : row;
  });
}

/** First and last token whose ranges overlap [start, end) (an empty selection counts as the token at the cursor). */
export function tokensInRange(r: RoutingResult, start: number, end: number): [number, number] | undefined {
  const hi = Math.max(end, start + 1);
  let first = -1;
  let last = -1;
  for (let t = 0; t < r.tokens; t++) {
    const [s, e] = [r.offsets[2 * t], r.offsets[2 * t + 1]];
    if (e > start && s < hi) {
      if (first < 0) first = t;
      last = t;
    }
  }
  return first < 0 ? undefined : [first, last];
}

/** The head (most A-linked: disable candidates) and tail (most B-linked: force candidates) of a ΔP ranking. */
export function contrastiveSplit(rows: readonly ContrastiveRow[], n = 12): { a: ContrastiveRow[]; b: ContrastiveRow[] } {
  const sorted = [...rows].sort((x, y) => y.deltaP - x.deltaP);
  const a = sorted.filter((r) => r.deltaP > 0).slice(0, n);
  const b = sorted.filter((r) => r.deltaP < 0).reverse().slice(0, n);
  return { a, b };
}
