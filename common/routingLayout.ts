// The layout of a RoutingResult's flat, token-major arrays, and what is read from it on every side (server hover
// and usage, editor heatmap, panel charts). experts / weights / baselineExperts hold T × L × K values, entropy T × L.
// Index through these helpers rather than writing `(t * L + l) * K + k` again.
import type { ModelInfo, RoutingResult } from './protocol';
import { notRecordedSet } from './routingSource';

type Shape = Pick<ModelInfo, 'layers' | 'topK'>;

/** Index of slot k (0 = the expert the router ranks first) of token t at layer l in experts, weights, baselineExperts. */
export const slotIndex = (m: Shape, t: number, l: number, k = 0): number => (t * m.layers + l) * m.topK + k;

/** [start, end) of token t's L × K values in experts, weights, baselineExperts (slot (l, k) is start + l·K + k). */
export const tokenSlots = (m: Shape, t: number): [number, number] => [slotIndex(m, t, 0), slotIndex(m, t + 1, 0)];

/** Index of (token t, layer l) in entropy. */
export const layerIndex = (m: Pick<ModelInfo, 'layers'>, t: number, l: number): number => t * m.layers + l;

/**
 * Index into a forward pass's own outputs, which the graph gives layer-major ([L, T, width]): value k of (layer l,
 * token j) of a pass over `tokens` tokens (width 1: the row itself). The engine reads them with this and writes the
 * token-major result with slotIndex / layerIndex.
 */
export const layerMajorIndex = (tokens: number, l: number, j: number, width = 1, k = 0): number => (l * tokens + j) * width + k;

/** The K values of token t at layer l (a copy), in the router's rank order. */
export function topKAt(values: readonly number[], m: Shape, t: number, l: number): number[] {
  const i = slotIndex(m, t, l);
  return values.slice(i, i + m.topK);
}

/** The top-k set as a key: order inside the top-k does not count as a change. */
const setKey = (a: number[]): string => a.sort((x, y) => x - y).join();

/** Whether steering changed the set of experts of token t at layer l (false when nothing is steered). */
export function topKChanged(r: RoutingResult, t: number, l: number): boolean {
  if (!r.baselineExperts) return false;
  return setKey(topKAt(r.experts, r.model, t, l)) !== setKey(topKAt(r.baselineExperts, r.model, t, l));
}

/** Number of layers at token t whose top-k set steering changed. */
export function changedLayers(r: RoutingResult, t: number): number {
  let n = 0;
  for (let l = 0; l < r.model.layers; l++) if (topKChanged(r, t, l)) n++;
  return n;
}

/**
 * Which experts a document relies on at each layer. active[l][e]: share of tokens whose top-k at layer l contains e
 * (the P(expert active) of SteerMoE's ΔP); slots[l][e]: share of the layer's routed token slots (Switch's f_i, sums
 * to 1 per layer).
 */
export function expertUsage(r: RoutingResult): { active: number[][]; slots: number[][] } {
  const { layers: L, experts: E, topK: K } = r.model;
  // a trace's prefix-cached tokens carry placeholder experts: they are not counted
  const skip = notRecordedSet(r);
  const T = r.tokens - skip.size;
  const counts = Array.from({ length: L }, () => new Array<number>(E).fill(0));
  for (let t = 0; t < r.tokens; t++) if (!skip.has(t)) for (let l = 0; l < L; l++) for (let k = 0; k < K; k++) counts[l][r.experts[slotIndex(r.model, t, l, k)]]++;
  return {
    active: counts.map((row) => row.map((c) => (T ? c / T : 0))),
    slots: counts.map((row) => row.map((c) => (T ? c / (T * K) : 0))),
  };
}
