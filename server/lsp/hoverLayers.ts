// Which layers the routing hover lists. Compact (the default): the heatmap's layer — or, with the heatmap on "mean",
// the layer whose router was most decided for this token — plus, under steering, the layers whose experts changed,
// at most COMPACT_ROWS rows; so a steered hover keeps its next-token / KL part (a second provider, shown below) on
// screen. "all": every layer, as before (moeLens.hover.layers).
import type { HoverSettings, RoutingResult } from '../../common/protocol';
import { slotIndex, topKChanged } from '../../common/routingLayout';

export const COMPACT_ROWS = 3;

export function hoverLayers(r: RoutingResult, t: number, opts: HoverSettings | undefined): number[] {
  const L = r.model.layers;
  const all = Array.from({ length: L }, (_, l) => l);
  if (!opts || opts.layers === 'all' || L <= COMPACT_ROWS) return all;
  const weighted = !(r.absent ?? []).includes('weights');
  const decided = (l: number) => (weighted ? r.weights[slotIndex(r.model, t, l)] : 0);
  const first = typeof opts.layer === 'number' ? Math.max(0, Math.min(L - 1, opts.layer)) : all.reduce((a, b) => (decided(b) > decided(a) ? b : a), 0);
  const changed = r.steered && r.baselineExperts ? all.filter((l) => l !== first && topKChanged(r, t, l)) : [];
  return [first, ...changed].slice(0, COMPACT_ROWS).sort((a, b) => a - b);
}
