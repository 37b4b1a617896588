// What a model returns is checked before anything is shown: a graph with the right names can still return NaN gate
// weights or an expert id outside [0, E), and those would show as "E0 (NaN)" in a hover, turn an entropy into 0 or
// index past an array. Checked on the load probe (a broken model is an error in the status naming it) and on every
// run (a model that breaks only on some input fails that analysis with the same message, never garbage).
import { ModelLoadError } from './errors';

export interface RoutingOutputs {
  routerLogits: Float32Array;
  expertIds: Int32Array | BigInt64Array;
  expertWeights: Float32Array;
  tokenLogprobs?: Float32Array;
}

/** Gate weights may exceed 1 or dip below 0 by float rounding only. */
const WEIGHT_SLACK = 1e-4;

/**
 * The first problem in one forward pass's routing outputs, as a sentence naming the output, or undefined when they
 * are sound: router logits finite, expert ids integers in [0, experts), gate weights finite in [0, 1], token
 * log-probabilities finite and ≤ 0 (−Infinity is allowed: a token the model gives probability 0).
 */
export function routingOutputProblem(o: RoutingOutputs, experts: number, names: { routerLogits: string; expertIds: string; expertWeights: string; tokenLogprobs?: string }): string | undefined {
  for (let i = 0; i < o.routerLogits.length; i++) {
    if (!Number.isFinite(o.routerLogits[i])) return `output "${names.routerLogits}" has a non-finite value (${o.routerLogits[i]}) at index ${i}`;
  }
  for (let i = 0; i < o.expertIds.length; i++) {
    const e = Number(o.expertIds[i]);
    if (!(Number.isInteger(e) && e >= 0 && e < experts)) return `output "${names.expertIds}" has expert id ${e} at index ${i}, outside 0–${experts - 1}`;
  }
  for (let i = 0; i < o.expertWeights.length; i++) {
    const w = o.expertWeights[i];
    if (!(Number.isFinite(w) && w >= -WEIGHT_SLACK && w <= 1 + WEIGHT_SLACK)) return `output "${names.expertWeights}" has gate weight ${w} at index ${i}, outside [0, 1]`;
  }
  const lp = o.tokenLogprobs;
  if (lp && names.tokenLogprobs) {
    for (let i = 0; i < lp.length; i++) {
      if (Number.isNaN(lp[i]) || lp[i] > WEIGHT_SLACK) return `output "${names.tokenLogprobs}" has log-probability ${lp[i]} at index ${i} (must be ≤ 0)`;
    }
  }
  return undefined;
}

/** Throws a ModelLoadError naming the graph file when the outputs are not sound. */
export function checkRoutingOutputs(o: RoutingOutputs, experts: number, names: Parameters<typeof routingOutputProblem>[2], file: string): void {
  const problem = routingOutputProblem(o, experts, names);
  if (problem) throw new ModelLoadError(`the model returned invalid routing: ${problem}`, file, '/outputs');
}
