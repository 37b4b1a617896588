// Per-document expert usage, for the tree view and quick picks: which experts a document relies on at each layer.
import type { ExpertUsageResult, RoutingResult } from '../../common/protocol';
import { notRecordedSet } from '../../common/routingSource';

/**
 * active[l][e]: share of tokens whose top-k at layer l contains e (the P(expert active) of SteerMoE's ΔP);
 * slots[l][e]: share of the layer's routed token slots (Switch's f_i, sums to 1 per layer).
 */
export function expertUsage(result: RoutingResult): Omit<ExpertUsageResult, 'uri'> {
  const { layers: L, experts: E, topK: K } = result.model;
  // a trace's unrecorded tokens hold placeholder ids: they are not counted
  const skip = notRecordedSet(result);
  const T = result.tokens - skip.size;
  const counts = Array.from({ length: L }, () => new Array<number>(E).fill(0));
  for (let t = 0; t < result.tokens; t++) {
    if (skip.has(t)) continue;
    for (let l = 0; l < L; l++) for (let k = 0; k < K; k++) counts[l][result.experts[(t * L + l) * K + k]]++;
  }
  return {
    version: result.version,
    tokens: T,
    steered: result.steered,
    active: counts.map((row) => row.map((c) => (T ? c / T : 0))),
    slots: counts.map((row) => row.map((c) => (T ? c / (T * K) : 0))),
  };
}
