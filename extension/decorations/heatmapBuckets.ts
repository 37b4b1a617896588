import { HEATMAP_METRICS, metricAvailable, tokenValue, type HeatmapLayer, type HeatmapMetric } from '../../common/heatmapMetrics';
import type { RoutingResult } from '../../common/protocol';
import { notRecordedSet } from '../../common/routingSource';
import type { HeatmapChoice } from '../config';

/** Categorical expert colours (moeLens.expert0..15); experts beyond 16 reuse them modulo 16. */
export const EXPERT_COLOURS = 16;
/** Sequential ramp colours (moeLens.heat0..4), low to high. */
export const HEAT_LEVELS = 5;

const level = (x: number) => Math.max(0, Math.min(HEAT_LEVELS - 1, Math.floor(x * HEAT_LEVELS)));

/**
 * Colour bucket per token for a metric of common/heatmapMetrics.ts (-1 = no decoration): a categorical metric's
 * value (an expert id) modulo the 16 expert colours; any other the level of its value within the metric's range.
 * A `hideMin` metric leaves its minimum undecorated, and its lowest level starts just above it (1 changed layer of 5
 * is level 0).
 */
export function tokenBuckets(r: RoutingResult, metric: HeatmapChoice, layer: HeatmapLayer): Int16Array {
  const out = new Int16Array(r.tokens).fill(-1);
  if (metric === 'off') return out;
  const m: HeatmapMetric = HEATMAP_METRICS[metric];
  // What the source did not record stays undecorated (a trace has no weights, entropy or surprisal): never a colour
  // that would read as a value.
  if (!metricAvailable(m, r)) return out;
  const skip = notRecordedSet(r);
  const [min, max] = m.range(r.model);
  for (let t = 0; t < r.tokens; t++) {
    if (skip.has(t)) continue;
    const v = tokenValue(m, r, t, layer);
    if (m.scale === 'categorical') out[t] = v % EXPERT_COLOURS;
    else if ('hideMin' in m && m.hideMin) out[t] = v <= min ? -1 : level((v - min) / (max - min) - 1e-9);
    else out[t] = level((v - min) / (max - min));
  }
  return out;
}
