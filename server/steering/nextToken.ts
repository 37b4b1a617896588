// How steering changes the model's next-token prediction at one position (shown in the hover): the top tokens before
// and after, and KL(baseline || steered) — how much probability mass the steering moved, in nats.
import type { SteeringRule } from '../../common/protocol';
import type { ModelSession } from '../model/modelSession';
import { klDivergence, softmax, topK } from '../routing/math';
import { biasFromRules } from '../routing/expertBias';

export interface TokenProbability {
  id: number;
  p: number;
}

export interface NextTokenComparison {
  baseline: TokenProbability[];
  steered: TokenProbability[];
  /** KL(baseline || steered) in nats; 0 when steering leaves the distribution unchanged */
  klNats: number;
}

/** The k most likely tokens of softmax(row). */
export function topTokens(row: ArrayLike<number>, k: number): TokenProbability[] {
  const p = softmax(row);
  return topK(p, k).map((id) => ({ id, p: p[id] }));
}

/** Pure: compares two logit rows over the vocabulary. */
export function compareDistributions(baseline: ArrayLike<number>, steered: ArrayLike<number>, k = 3): NextTokenComparison {
  if (baseline.length !== steered.length) throw new RangeError(`logit rows differ in length (${baseline.length} vs ${steered.length})`);
  return { baseline: topTokens(baseline, k), steered: topTokens(steered, k), klNats: Math.max(0, klDivergence(baseline, steered)) };
}

/**
 * The prediction after token `position` of `ids` (the distribution of token position+1), unsteered and under `rules`.
 * Only the context window ending at `position` is run, as the model would see it.
 */
export async function nextTokenChange(
  session: ModelSession,
  ids: readonly number[],
  position: number,
  rules: readonly SteeringRule[],
  k = 3,
): Promise<NextTokenComparison & { position: number }> {
  if (!(Number.isInteger(position) && position >= 0 && position < ids.length)) throw new RangeError(`token position ${position} is outside the text's ${ids.length} tokens`);
  const { layers: L, experts: E, vocabSize: V, contextLength: C } = session.info;
  const window = ids.slice(Math.max(0, position + 1 - C), position + 1);
  const last = (window.length - 1) * V;
  const base = await session.forward(window, new Float32Array(L * E));
  const steered = rules.length ? await session.forward(window, biasFromRules(rules, session.info, session.manifest)) : base;
  return { position, ...compareDistributions(base.logits.subarray(last, last + V), steered.logits.subarray(last, last + V), k) };
}
