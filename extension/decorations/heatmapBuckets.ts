import type { RoutingResult } from '../../common/protocol';
import { has, notRecordedSet } from '../../common/routingSource';
import type { HeatmapLayer, HeatmapMetric } from '../config';

/** Categorical expert colours (moeLens.expert0..15); experts beyond 16 reuse them modulo 16. */
export const EXPERT_COLOURS = 16;
/** Sequential ramp colours (moeLens.heat0..4), low to high. */
export const HEAT_LEVELS = 5;

/** Number of layers at token t whose top-k set differs from the unsteered one. */
export function changedLayers(r: RoutingResult, t: number): number {
  if (!r.baselineExperts) return 0;
  const { layers: L, topK: K } = r.model;
  let n = 0;
  for (let l = 0; l < L; l++) {
    const a = r.experts.slice((t * L + l) * K, (t * L + l + 1) * K).sort();
    const b = r.baselineExperts.slice((t * L + l) * K, (t * L + l + 1) * K).sort();
    if (a.join() !== b.join()) n++;
  }
  return n;
}

const level = (x: number) => Math.max(0, Math.min(HEAT_LEVELS - 1, Math.floor(x * HEAT_LEVELS)));

/**
 * Colour bucket per token for a metric (-1 = no decoration). "expert": top-1 expert at the layer (categorical);
 * "entropy": router entropy at the layer or the mean over layers, as a share of its maximum ln E; "gate": top-1 gate
 * weight from 1/K (no preference) to 1; "surprisal": bits on a fixed 0–15 scale; "change": layers whose experts
 * changed under steering (0 = undecorated).
 */
export function tokenBuckets(r: RoutingResult, metric: HeatmapMetric, layer: HeatmapLayer): Int16Array {
  const { layers: L, topK: K, experts: E } = r.model;
  const l = layer === 'mean' ? 0 : Math.min(Math.max(0, layer), L - 1);
  const out = new Int16Array(r.tokens).fill(-1);
  // What the source did not record stays undecorated (a trace has no weights, entropy or surprisal): never a colour
  // that would read as a value.
  const needs = { entropy: 'entropy', gate: 'weights', surprisal: 'surprisal' } as const;
  if (metric in needs && !has(r, needs[metric as keyof typeof needs])) return out;
  const skip = notRecordedSet(r);
  for (let t = 0; t < r.tokens; t++) {
    if (skip.has(t)) continue;
    switch (metric) {
      case 'expert':
        out[t] = r.experts[(t * L + l) * K] % EXPERT_COLOURS;
        break;
      case 'entropy': {
        let h = 0;
        if (layer === 'mean') {
          for (let j = 0; j < L; j++) h += r.entropy[t * L + j];
          h /= L;
        } else h = r.entropy[t * L + l];
        out[t] = level(h / Math.log(E));
        break;
      }
      case 'gate':
        out[t] = level((r.weights[(t * L + l) * K] - 1 / K) / (1 - 1 / K));
        break;
      case 'surprisal':
        out[t] = level(r.surprisal[t] / 15);
        break;
      case 'change': {
        const n = changedLayers(r, t);
        out[t] = n === 0 ? -1 : level(n / L - 1e-9);
        break;
      }
      default:
        break;
    }
  }
  return out;
}
