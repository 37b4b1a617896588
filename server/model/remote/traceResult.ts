// A routing result from expert ids alone (what a serving engine reports): gate weights, router entropy and surprisal
// are not in the answer, so they are named in `absent` and left empty — shown as "not in the trace", never as zeros.
import type { ModelInfo, RoutingResult } from '../../../common/protocol';
import type { ExpertGrid } from './routedExperts';

export const TRACE_ABSENT: NonNullable<RoutingResult['absent']> = ['weights', 'entropy', 'surprisal'];

/** `grid` holds the first grid.tokens of `ids`; `truncated` says the document had more tokens than were routed. */
export function routingFromGrid(model: ModelInfo, version: number, ids: readonly number[], offsets: readonly number[], grid: ExpertGrid, truncated: boolean, elapsedMs: number): RoutingResult {
  const T = grid.tokens;
  return {
    model,
    version,
    tokens: T,
    offsets: offsets.slice(0, 2 * T),
    ids: ids.slice(0, T),
    experts: Array.from(grid.data),
    weights: [],
    entropy: [],
    surprisal: [],
    steered: false,
    windows: 1,
    truncated,
    elapsedMs,
    absent: [...TRACE_ABSENT],
  };
}
